using CustomerJourney.Access;
using CustomerJourney.Churn;
using CustomerJourney.Complaints;
using CustomerJourney.Demo;
using CustomerJourney.Infrastructure;
using CustomerJourney.Journeys;
using CustomerJourney.Touchpoints;
using CustomerJourney.WinBack;
using JasperFx;
using Scalar.AspNetCore;
using Wolverine.Http;

var builder = WebApplication.CreateBuilder(args);

builder.AddCritterStack();
builder.AddAccess();
builder.AddObservability();
builder.Services.AddProblems();
builder.Services.AddHealth();
builder.Services.AddOpenApi();

builder.Services.AddTouchpoints(builder.Configuration);
builder.Services.AddJourneys();
builder.Services.AddChurn(builder.Configuration);
builder.Services.AddComplaints(builder.Configuration);
builder.Services.AddWinBack(builder.Configuration);
builder.Services.AddDemo(builder.Configuration);

var app = builder.Build();

app.UseProblems();
app.UseAccess();
app.UseRequestMediaTypes();
app.MapHealth();
app.MapWinBack();
app.MapOpenApi().AllowAnonymous();
app.MapScalarApiReference().AllowAnonymous();
app.MapWolverineEndpoints();

return await app.RunJasperFxCommands(args);

/// <summary>Visible to the test host.</summary>
public partial class Program;
