/**
 * The files the package installs agree with the code they configure: every setting the
 * commented settings files show is one the loader accepts, with a valid example value; the
 * units run packaged commands on the packaged settings files, and give a stop the time the
 * agent and the transfer take for a clean one.
 */
import { deepStrictEqual as equal, ok } from "node:assert/strict";
import { parse as parseYaml } from "yaml";
import { resolveSettings } from "../agent/settings.ts";
import { defaultConfig, resolveConfig } from "../transfer/config.ts";
import { COMMANDS } from "./commands.ts";
import { CONFFILES, PACKAGE } from "./debian.ts";
import { parseUnit, timespanSeconds, unitValue } from "./systemd_unit.ts";

const file = (name: string) => Deno.readTextFile(new URL(`files/${name}`, import.meta.url));

/**
 * The settings file with every commented-out setting switched on: `#key: value` and its nested
 * `#  key: value` lines lose their `#`; prose (`# text`) stays a comment.
 */
function uncommented(text: string): Record<string, unknown> {
  return parseYaml(text.replace(/^#(?=\S| {2})/gm, "")) as Record<string, unknown>;
}

Deno.test("agent.yaml: as shipped, checkpoints go to the state directory", async () => {
  const settings = resolveSettings({}, {}, parseYaml(await file("agent.yaml")), "host-1");
  equal(settings.checkpointDir, "/var/lib/sluice/agent");
  equal(settings.agentId, "host-1");
});

Deno.test("agent.yaml: every commented setting is one the agent knows, with a valid example", async () => {
  const all = uncommented(await file("agent.yaml"));
  ok(Object.keys(all).length >= 10, `only ${Object.keys(all).length} settings found`);
  const settings = resolveSettings({}, {}, all, "host-1");
  // Each example must reach the settings, or its key is one the agent does not read.
  equal(settings.agentId, all.agent_id);
  equal(settings.labels, all.labels);
  equal(settings.etcd, all.etcd);
  equal(settings.kafka, all.kafka);
  equal(settings.prefix, all.prefix);
  equal(settings.metricsAddress, all.metrics_addr);
  equal(settings.compression, all.compression);
  equal(settings.lingerMs, all.linger_ms);
  equal(settings.shutdownTimeoutMs, all.shutdown_timeout_ms);
  equal(settings.tail.maxInflightBytes, all.max_inflight_bytes);
  equal(settings.tail.lineFlushMs, all.line_flush_ms);
  equal(settings.tail.rotateWaitMs, all.rotate_wait_ms);
  equal(settings.tail.pollMs, all.poll_ms);
  equal(settings.tail.scanMs, all.scan_ms);
});

Deno.test("transfer.yaml: every commented setting is one the transfer accepts", async () => {
  const all = uncommented(await file("transfer.yaml"));
  ok(Object.keys(all).length >= 10, `only ${Object.keys(all).length} settings found`);
  // resolveConfig refuses unknown keys and invalid values.
  const config = resolveConfig({ file: all });
  equal(config.topics, all.topics);
  equal(config.shutdownGraceMs, all.shutdown_grace_ms);
});

Deno.test("the units run packaged commands with packaged settings files, as the package user", async () => {
  for (
    const [unitName, command] of [["sluice-agent", "sluice-agent"], [
      "sluice-transfer",
      "sluice-transfer",
    ]]
  ) {
    const unit = parseUnit(await file(`${unitName}.service`));
    ok(COMMANDS.some((c) => c.name === command));
    const exec = unitValue(unit, "Service", "ExecStart")!.split(/\s+/);
    equal(exec[0], `/usr/bin/${command}`);
    equal(exec[1], "--config");
    ok((CONFFILES as readonly string[]).includes(exec[2]), `${exec[2]} is a conffile`);
    const envFile = unitValue(unit, "Service", "EnvironmentFile")!;
    ok((CONFFILES as readonly string[]).includes(envFile.replace(/^-/, "")), envFile);
    equal(unitValue(unit, "Service", "User"), PACKAGE);
    equal(unitValue(unit, "Service", "Restart"), "on-failure");
    ok(unit.Service.Environment.includes("SLUICE_LOG_FORMAT=json"));
  }
});

Deno.test("the agent unit: stop timeout above the agent's clean-stop bound, only the capability to read", async () => {
  const unit = parseUnit(await file("sluice-agent.service"));
  const { shutdownTimeoutMs } = resolveSettings({}, {}, {}, "h");
  // agent/main.ts exits by itself 5 s after the shutdown timeout whatever hangs.
  const hardExitSeconds = shutdownTimeoutMs / 1000 + 5;
  const stop = timespanSeconds(unitValue(unit, "Service", "TimeoutStopSec")!);
  ok(
    stop > hardExitSeconds,
    `TimeoutStopSec ${stop} s ≤ the agent's hard exit ${hardExitSeconds} s`,
  );
  equal(unitValue(unit, "Service", "CapabilityBoundingSet"), "CAP_DAC_READ_SEARCH");
  equal(unitValue(unit, "Service", "AmbientCapabilities"), "CAP_DAC_READ_SEARCH");
  equal(unitValue(unit, "Service", "ProtectSystem"), "strict");
  equal(unitValue(unit, "Service", "StateDirectory"), PACKAGE);
});

Deno.test("the transfer unit: stop timeout above the transfer's shutdown grace", async () => {
  const unit = parseUnit(await file("sluice-transfer.service"));
  const graceSeconds = defaultConfig().shutdownGraceMs / 1000;
  const stop = timespanSeconds(unitValue(unit, "Service", "TimeoutStopSec")!);
  ok(stop >= graceSeconds + 5, `TimeoutStopSec ${stop} s < shutdown grace ${graceSeconds} s + 5`);
  equal(unitValue(unit, "Service", "CapabilityBoundingSet"), "");
});
