// Trades closed on one UTC day (pipelines/trades_of_day.json).
//   DAY=2024-01-05 mongosh "$MONGODB_URL" --quiet --file scripts/mongo/trades_of_day.js
load(__dirname + "/lib.js");
ltRun("trades_of_day");
