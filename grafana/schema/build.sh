#!/usr/bin/env bash
# Build Grafana's dashboard JSON Schema from its published types (run by `make setup`).
#
# Grafana publishes the dashboard kind as TypeScript types in the npm package @grafana/schema (generated from
# the CUE kind; the package ships no JSON Schema and no CUE). This installs the exact versions locked in
# package-lock.json (integrity-checked by `npm ci`) into a scratch folder and turns the `Dashboard` type of
# dist/types/raw/dashboard/x/types.gen.d.ts (the classic dashboard JSON model that /api/dashboards/db and file
# provisioning take) into a JSON Schema with ts-json-schema-generator. `touchpoint dashboards check` validates
# every dashboard in grafana/dashboards/ against it.
#
# usage: grafana/schema/build.sh OUT.json   (needs node + npm; nothing is installed outside the scratch folder)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$(realpath -m "${1:?usage: build.sh OUT.json}")"
scratch="$(dirname "$out")/schema-build"
command -v npm >/dev/null || { echo "build.sh: npm not found (make setup installs Debian's npm)" >&2; exit 1; }
mkdir -p "$scratch"
cp "$here/package.json" "$here/package-lock.json" "$scratch/"
cd "$scratch"
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
types=node_modules/@grafana/schema/dist/types/raw/dashboard/x/types.gen.d.ts
version="$(node -p 'require("@grafana/schema/package.json").version')"
node node_modules/ts-json-schema-generator/bin/ts-json-schema-generator \
  --path "$types" --type Dashboard --no-type-check --out "$scratch/dashboard.raw.json"
# Record where the schema came from; write atomically so a failed build leaves no half file.
node -e '
  const fs = require("fs");
  const [raw, out, version] = process.argv.slice(1);
  const s = JSON.parse(fs.readFileSync(raw, "utf8"));
  s.$comment = `Grafana dashboard JSON model: type Dashboard of @grafana/schema ${version} ` +
               "(dist/types/raw/dashboard/x/types.gen.d.ts), converted by ts-json-schema-generator; built by grafana/schema/build.sh";
  s["x-grafana-schema-version"] = version;
  fs.writeFileSync(out + ".tmp", JSON.stringify(s, null, 1));
  fs.renameSync(out + ".tmp", out);
' "$scratch/dashboard.raw.json" "$out" "$version"
echo "wrote $out (@grafana/schema $version)"
