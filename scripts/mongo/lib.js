// Shared by the scripts of scripts/mongo/ (mongosh): load a pipeline file from
// pipelines/, fill its {{placeholders}} from environment variables, run it.
// The filling is the same as live_trading/store/queries.py, which the tests use
// to run these very pipeline files against a real server.
//
// Parameters come from upper-case environment variables (operation_id ->
// OPERATION_ID); MONGODB_DB_NAME, when set, picks the database (else the one in
// the connection string). OUTPUT=ejson prints one relaxed Extended JSON line per
// result (for jq) instead of mongosh's pretty print.
/* global db, EJSON, print, printjson, require, process, __dirname */

var ltFs = require("fs");
var ltPath = require("path");
var ltPipelinesDir = ltPath.join(__dirname, "pipelines");
var ltPatterns = {
  objectid: /^[0-9a-fA-F]{24}$/,
  int: /^-?[0-9]+$/,
  date: /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/,
};

function ltValue(name, spec) {
  var variable = name.toUpperCase();
  var value = process.env[variable] !== undefined ? process.env[variable] : spec.default;
  if (value === undefined) {
    throw new Error(name + ": required, set " + variable + " (" + (spec.description || "") + ")");
  }
  var pattern = ltPatterns[spec.type];
  if (!pattern) throw new Error(name + ": unknown parameter type " + spec.type);
  if (!pattern.test(value)) throw new Error(name + ": '" + value + "' is not a valid " + spec.type);
  if (spec.type === "date") {
    var day = new Date(value + "T00:00:00Z");
    if (isNaN(day.getTime()) || day.toISOString().slice(0, 10) !== value) {
      throw new Error(name + ": '" + value + "' is not a calendar day");
    }
  }
  return value;
}

function ltFill(node, values) {
  if (Array.isArray(node)) return node.map(function (v) { return ltFill(v, values); });
  if (node !== null && typeof node === "object") {
    var out = {};
    Object.keys(node).forEach(function (k) { out[ltFill(k, values)] = ltFill(node[k], values); });
    return out;
  }
  if (typeof node === "string") {
    return node.replace(/\{\{([A-Za-z_][A-Za-z0-9_]*)\}\}/g, function (_, name) {
      if (!(name in values)) throw new Error(name + ": placeholder without a value");
      return values[name];
    });
  }
  return node;
}

// {collection, pipeline} of pipelines/<name>.json with its parameters filled.
function ltQuery(name) {
  var file = ltPath.join(ltPipelinesDir, name + ".json");
  var spec = JSON.parse(ltFs.readFileSync(file, "utf8"));
  var values = {};
  Object.keys(spec.parameters).forEach(function (p) { values[p] = ltValue(p, spec.parameters[p]); });
  var pipeline = EJSON.deserialize(ltFill(spec.pipeline, values), { relaxed: true });
  return { collection: spec.collection, pipeline: pipeline, description: spec.description };
}

// Run pipelines/<name>.json and print its results.
function ltRun(name) {
  var query = ltQuery(name);
  var database = process.env.MONGODB_DB_NAME ? db.getSiblingDB(process.env.MONGODB_DB_NAME) : db;
  var json = process.env.OUTPUT === "ejson";
  var count = 0;
  database.getCollection(query.collection).aggregate(query.pipeline).forEach(function (doc) {
    if (json) print(EJSON.stringify(doc, { relaxed: true }));
    else printjson(doc);
    count += 1;
  });
  if (!json) print("// " + count + " result(s): " + name + " - " + query.description);
}
