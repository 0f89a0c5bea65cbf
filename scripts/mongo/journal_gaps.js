// Operations whose journal sequence numbers have holes, with the missing
// numbers (pipelines/journal_gaps.json). No output rows = no gaps.
//   mongosh "$MONGODB_URL" --quiet --file scripts/mongo/journal_gaps.js
load(__dirname + "/lib.js");
ltRun("journal_gaps");
