import { deepStrictEqual as equal, throws } from "node:assert/strict";
import { parseUnit, timespanSeconds, unitEnvironment, unitValue } from "./systemd_unit.ts";

Deno.test("parseUnit reads sections, repeated keys, comments and continued lines", () => {
  const unit = parseUnit(`# a comment
[Unit]
Description=x y

[Service]
; another comment
ExecStart=/usr/bin/a \\
  --config /etc/a.yaml
Environment=A=1
Environment=B=2
Restart=no
Restart=on-failure
`);
  equal(unitValue(unit, "Unit", "Description"), "x y");
  equal(unitValue(unit, "Service", "ExecStart"), "/usr/bin/a    --config /etc/a.yaml");
  equal(unitValue(unit, "Service", "Restart"), "on-failure");
  equal(unitEnvironment(unit), { A: "1", B: "2" });
  equal(unitValue(unit, "Install", "WantedBy"), undefined);
  throws(() => parseUnit("Key=value\n"), /line 1: not a Key=Value in a section/);
  throws(() => unitEnvironment(parseUnit("[Service]\nEnvironment=A=1 B=2\n")), /one NAME=value/);
});

Deno.test("timespanSeconds reads systemd time spans", () => {
  equal(timespanSeconds("20"), 20);
  equal(timespanSeconds("20s"), 20);
  equal(timespanSeconds("1min 30s"), 90);
  equal(timespanSeconds("500ms"), 0.5);
  equal(timespanSeconds("2h"), 7200);
  throws(() => timespanSeconds("soon"), /does not parse/);
  throws(() => timespanSeconds("3 weeks"), /unknown unit 'weeks'/);
});
