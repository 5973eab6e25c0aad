#!/usr/bin/env bash
# Sourced by scripts/run and scripts/test. Ensures a PostgreSQL is reachable and exports
# ConnectionStrings__Marten for it.
#
# - If ConnectionStrings__Marten is already set, that server is used as it is: nothing is
#   installed or started.
# - Otherwise a project-local cluster lives in .local/pg (ignored by git): PostgreSQL is installed
#   with apt-get when missing, the cluster is created once, owned by a non-root user, listening on
#   127.0.0.1 only, with a generated password, and started if it is not running. Later runs reuse it.

cj_pg_fail() { echo "local-postgres: $*" >&2; return 1; }

# The first port from 55432 on that nothing on 127.0.0.1 listens to.
cj_pg_free_port() {
  local candidate
  for candidate in $(seq 55432 55531); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then echo "$candidate"; return 0; fi
  done
  return 1
}

cj_pg_ensure() {
  if [ -n "${ConnectionStrings__Marten:-}" ]; then
    echo "local-postgres: using the configured ConnectionStrings__Marten; nothing installed or started."
    return 0
  fi

  local root; root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  local dir="$root/.local/pg"
  local data="$dir/data"
  local port

  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"

  local bin
  bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
    echo "local-postgres: PostgreSQL not found; installing it with apt-get (package 'postgresql')."
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq || cj_pg_fail "apt-get update failed" || return 1
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null \
      || cj_pg_fail "apt-get install postgresql failed" || return 1
    # Debian starts a system-wide cluster on 5432; we never use it, so leave it as the package set it up.
    bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
    [ -x "$bin/initdb" ] || cj_pg_fail "initdb still missing after install" || return 1
  fi

  # PostgreSQL refuses to run as root: as root we run it as the 'postgres' user the package creates.
  local run_as=()
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres \
      || cj_pg_fail "could not create the 'postgres' user" || return 1
    run_as=(runuser -u postgres --)
  fi

  mkdir -p "$dir"
  if [ ! -f "$data/PG_VERSION" ]; then
    # Another clone's cluster (or anything else) may hold the default port: take the first free one, once.
    port="${CJ_PG_PORT:-}"
    if [ -z "$port" ]; then
      port="$(cj_pg_free_port)" || { cj_pg_fail "no free port in 55432-55531"; return 1; }
    fi
    echo "local-postgres: creating a cluster in $data (127.0.0.1:$port)"
    local pw; pw="$(head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 24)"
    printf '%s\n' "$pw" > "$dir/password"
    chmod 600 "$dir/password"
    rm -rf "$data"
    mkdir -p "$data"
    if [ ${#run_as[@]} -gt 0 ]; then
      chown postgres "$dir" "$data" "$dir/password"
      # The repo may sit under a directory postgres cannot enter; it only needs to traverse to .local/pg.
      local p="$dir"; while [ "$p" != "/" ]; do chmod o+x "$p" 2>/dev/null || true; p="$(dirname "$p")"; done
    fi
    "${run_as[@]}" "$bin/initdb" -D "$data" -U customerjourney --pwfile="$dir/password" \
      --auth-local=scram-sha-256 --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; cj_pg_fail "initdb failed"; return 1; }
    {
      echo "listen_addresses = '127.0.0.1'"
      echo "port = $port"
      echo "unix_socket_directories = '$dir'"
      echo "max_connections = 200"
      echo "shared_buffers = 256MB"
    } >> "$data/postgresql.conf"
  fi

  port="$(sed -n 's/^port = \([0-9]*\)$/\1/p' "$data/postgresql.conf" | tail -n 1)"
  [ -n "$port" ] || cj_pg_fail "no port in $data/postgresql.conf" || return 1

  if ! "${run_as[@]}" "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    if [ -z "${CJ_PG_PORT:-}" ] && (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      # While this cluster was stopped, something else (another clone's cluster) took its port: move to a free one.
      port="$(cj_pg_free_port)" || { cj_pg_fail "no free port in 55432-55531"; return 1; }
      echo "local-postgres: port taken by another process; moving this cluster to 127.0.0.1:$port"
      echo "port = $port" >> "$data/postgresql.conf"
    fi
    echo "local-postgres: starting the cluster on 127.0.0.1:$port"
    "${run_as[@]}" "$bin/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 start >/dev/null \
      || { tail -n 20 "$dir/server.log" >&2; cj_pg_fail "pg_ctl start failed (log: $dir/server.log)"; return 1; }
  fi

  local pw; pw="$(cat "$dir/password")"
  local db="${CJ_PG_DATABASE:-customerjourney}"
  if [ "$(PGPASSWORD="$pw" "$bin/psql" -h 127.0.0.1 -p "$port" -U customerjourney -d postgres -tAc \
        "select 1 from pg_database where datname = '$db'")" != "1" ]; then
    PGPASSWORD="$pw" "$bin/createdb" -h 127.0.0.1 -p "$port" -U customerjourney "$db" \
      || cj_pg_fail "could not create database $db" || return 1
  fi
  export ConnectionStrings__Marten="Host=127.0.0.1;Port=$port;Database=$db;Username=customerjourney;Password=$pw"
  return 0
}
