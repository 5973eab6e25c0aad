// Sends one scripted journey with each SDK, unmodified: @segment/analytics-node, @rudderstack/rudder-sdk-node (gzip on,
// its default) and the legacy analytics-node 6.x. Each SDK has its own write key (its own source). Every call carries a
// messageId, and the order is sent twice (a duplicate); the relay in front of the service loses the acknowledgement of
// each SDK's first request, so the SDK's own retry re-sends the whole batch. Exit code 0 only if every SDK reports every
// call delivered.
//   CJ_URL             the relay on loopback, e.g. http://127.0.0.1:5123
//   CJ_SEGMENT_KEY     write key of the Segment source
//   CJ_RUDDER_KEY      write key of the RudderStack source
//   CJ_LEGACY_KEY      write key of the legacy analytics-node source
//   CJ_SEGMENT_USER    user id the Segment journey is sent for
//   CJ_RUDDER_USER     user id the RudderStack journey is sent for
//   CJ_LEGACY_USER     user id the legacy analytics-node journey is sent for
'use strict';
const { Analytics } = require('@segment/analytics-node');
const RudderAnalytics = require('@rudderstack/rudder-sdk-node');
const LegacyAnalytics = require('analytics-node');

const url = process.env.CJ_URL;

/** The journey, as SDK calls: [method, message]. */
function journey(user) {
  const order = {
    userId: user,
    event: 'Order Completed',
    messageId: `${user}-order`,
    timestamp: new Date('2024-05-01T10:00:00Z'),
    properties: {
      order_id: `${user}-o1`, revenue: 42.5, tax: 3, coupon: 'SPRING', currency: 'EUR',
      products: [{ product_id: 'p-1', sku: 'sku-1', name: 'Disc', price: 21.25, quantity: 2 }],
    },
  };
  return [
    ['identify', { userId: user, messageId: `${user}-identify`, timestamp: new Date('2024-04-30T08:00:00Z'), traits: { email: `${user}@example.com`, plan: 'gold' } }],
    ['page', { userId: user, messageId: `${user}-page`, timestamp: new Date('2024-05-01T09:59:00Z'), name: 'Checkout', properties: { path: '/checkout' } }],
    ['track', order],
    ['track', order],
    ['track', { userId: user, event: 'Wishlist Shared', messageId: `${user}-wish`, timestamp: new Date('2024-05-01T10:05:00Z'), properties: { note: 'for later' } }],
    ['track', { userId: user, event: 'NPS Survey Answered', messageId: `${user}-nps`, timestamp: new Date('2024-05-02T10:00:00Z'), properties: { nps: 9, comment: 'Quick' } }],
    ['track', { userId: user, event: 'Order Refunded', messageId: `${user}-refund`, timestamp: new Date('2024-05-03T10:00:00Z'), properties: { order_id: `${user}-o1`, total: 42.5, currency: 'EUR' } }],
  ];
}

async function sendWithSegment() {
  const analytics = new Analytics({ writeKey: process.env.CJ_SEGMENT_KEY, host: url, flushAt: 50, flushInterval: 500, maxRetries: 5 });
  const failures = [];
  analytics.on('error', (e) => failures.push(String(e && (e.reason || e.message || e.code) || e)));
  for (const [method, message] of journey(process.env.CJ_SEGMENT_USER)) {
    analytics[method](message, (err) => { if (err) failures.push(String(err)); });
  }
  await analytics.closeAndFlush({ timeout: 60000 });
  return failures;
}

async function sendWithRudderStack() {
  const failures = [];
  const client = new RudderAnalytics(process.env.CJ_RUDDER_KEY, {
    dataPlaneUrl: url, flushAt: 50, flushInterval: 500, retryCount: 3, logLevel: 'error',
  });
  for (const [method, message] of journey(process.env.CJ_RUDDER_USER)) {
    client[method](message, (err) => { if (err) failures.push(String(err)); });
  }
  try {
    await client.flush();
  } catch (e) {
    failures.push(String(e));
  }
  return failures;
}

// The legacy SDK with its defaults (3 retries of 5xx, 429 and network errors, 200/400/800 ms apart, Retry-After ignored).
// It always sends the first call of its life at once, alone; the rest wait for flushAt, flushInterval or flush().
async function sendWithLegacySegment() {
  const failures = [];
  const analytics = new LegacyAnalytics(process.env.CJ_LEGACY_KEY, {
    host: url, flushAt: 50, flushInterval: 500,
    // Without a handler, the flush that the first call starts by itself would reject with nobody listening.
    errorHandler: (e) => failures.push(`batch: ${e && (e.message || e.code)}`),
  });
  const delivered = journey(process.env.CJ_LEGACY_USER).map(([method, message]) => new Promise((resolve) => {
    analytics[method](message, (err) => { if (err) failures.push(String(err)); resolve(); });
  }));
  await analytics.flush();
  await Promise.all(delivered);
  return failures;
}

(async () => {
  const segment = await sendWithSegment();
  const rudder = await sendWithRudderStack();
  const legacy = await sendWithLegacySegment();
  console.log(JSON.stringify({ segment, rudder, legacy }));
  process.exit(segment.length + rudder.length + legacy.length === 0 ? 0 : 1);
})().catch((e) => { console.error(e); process.exit(2); });
