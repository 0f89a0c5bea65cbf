// Realized P/L by asset and strategy, quote currency (pipelines/pnl_by_asset_strategy.json).
//   mongosh "$MONGODB_URL" --quiet --file scripts/mongo/pnl_by_asset_strategy.js
load(__dirname + "/lib.js");
ltRun("pnl_by_asset_strategy");
