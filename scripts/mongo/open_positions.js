// Open positions, with their operation's asset and strategy (pipelines/open_positions.json).
//   mongosh "$MONGODB_URL" --quiet --file scripts/mongo/open_positions.js
load(__dirname + "/lib.js");
ltRun("open_positions");
