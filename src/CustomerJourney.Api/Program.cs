using CustomerJourney.Demo;
using CustomerJourney.Infrastructure;
using CustomerJourney.Journeys;
using CustomerJourney.Touchpoints;
using JasperFx;
using Scalar.AspNetCore;
using Wolverine.Http;

var builder = WebApplication.CreateBuilder(args);

builder.AddCritterStack();
builder.AddObservability();
builder.Services.AddProblems();
builder.Services.AddHealth();
builder.Services.AddOpenApi();

builder.Services.AddTouchpoints(builder.Configuration);
builder.Services.AddJourneys();
builder.Services.AddDemo(builder.Configuration);

var app = builder.Build();

app.UseProblems();
app.MapHealth();
app.MapOpenApi();
app.MapScalarApiReference();
app.MapWolverineEndpoints();

return await app.RunJasperFxCommands(args);

/// <summary>Visible to the test host.</summary>
public partial class Program;
