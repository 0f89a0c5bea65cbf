// One operation's journal entries in sequence order (pipelines/operation_journal.json).
//   OPERATION_ID=<id> [AFTER_SEQUENCE=0] [LIMIT=100] \
//     mongosh "$MONGODB_URL" --quiet --file scripts/mongo/operation_journal.js
load(__dirname + "/lib.js");
ltRun("operation_journal");
