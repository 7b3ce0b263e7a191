// Waiting for a compose project to be healthy, and saying precisely why it is not.
import { sleep } from '../process.mjs';

/**
 * One service's verdict from its containers.
 * @returns {{ state: 'healthy'|'pending'|'failed', detail: string, container?: ReturnType<typeof import('./compose.mjs').summarize> }}
 */
export function verdict(service, containers) {
  const mine = containers.filter((c) => c.service === service);
  if (mine.length === 0) return { state: 'pending', detail: 'no container yet' };
  for (const container of mine) {
    if (container.oomKilled) return { state: 'failed', detail: `killed for exceeding its memory limit (exit ${container.exitCode})`, container };
    // A crash loop (e.g. exit 78 on bad configuration, restarted by the restart policy): no point waiting.
    if (container.status === 'restarting' || (container.restartCount >= 2 && container.health !== 'healthy'))
      return { state: 'failed', detail: `keeps restarting (last exit code ${container.exitCode}, ${container.restartCount} restart(s))`, container };
    if (container.status === 'exited' || container.status === 'dead') return { state: 'failed', detail: `exited with code ${container.exitCode}`, container };
    if (container.status === 'paused') return { state: 'failed', detail: 'is paused', container };
    if (container.status !== 'running') return { state: 'pending', detail: container.status, container };
    if (container.health === 'unhealthy')
      return { state: 'failed', detail: `unhealthy${container.lastProbe ? ` (last probe: ${container.lastProbe.split('\n')[0]})` : ''}`, container };
    if (container.health === 'starting') return { state: 'pending', detail: 'health: starting', container };
  }
  return { state: 'healthy', detail: mine[0].health ? 'healthy' : 'running (no healthcheck)', container: mine[0] };
}

/**
 * Polls until every service is healthy; stops early when one has clearly failed (exited, restarting, unhealthy).
 * @param {import('./compose.mjs').ComposeStack} stack
 * @param {string[]} services
 * @param {{ timeoutMs: number, pollMs?: number, onProgress?: (line: string) => void }} options
 * @returns {Promise<{ ok: boolean, reason?: string, verdicts: Record<string, ReturnType<typeof verdict>> }>}
 */
export async function waitHealthy(stack, services, { timeoutMs, pollMs = 1000, onProgress = () => {} }) {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const containers = await stack.containers();
    const verdicts = Object.fromEntries(services.map((s) => [s, verdict(s, containers)]));
    const summary = services.map((s) => `${s}: ${verdicts[s].detail}`).join(', ');
    if (summary !== last) onProgress(summary);
    last = summary;
    const failed = services.filter((s) => verdicts[s].state === 'failed');
    if (failed.length) return { ok: false, reason: failed.map((s) => `${s} ${verdicts[s].detail}`).join('; '), verdicts };
    if (services.every((s) => verdicts[s].state === 'healthy')) return { ok: true, verdicts };
    if (Date.now() >= deadline) {
      const pending = services.filter((s) => verdicts[s].state !== 'healthy');
      return {
        ok: false,
        reason: `not healthy after ${Math.round(timeoutMs / 1000)} s: ${pending.map((s) => `${s} (${verdicts[s].detail})`).join(', ')}`,
        verdicts,
      };
    }
    await sleep(pollMs);
  }
}

/** The last log lines (and last probe output) of every service that is not healthy, ready to print. */
export async function diagnose(stack, services, verdicts, { lines = 30 } = {}) {
  const out = [];
  // When a service has clearly failed, its logs are what matters; the others only waited (e.g. on depends_on).
  const anyFailed = services.some((s) => verdicts?.[s]?.state === 'failed');
  for (const service of services) {
    const v = verdicts?.[service];
    if (v?.state === 'healthy') continue;
    out.push(`--- ${service}: ${v?.detail ?? 'unknown state'}`);
    if (!v?.container || (anyFailed && v.state !== 'failed')) continue;
    if (v.container.lastProbe) out.push(`last health probe output: ${v.container.lastProbe}`);
    const logs = await stack.logs(v.container.id, lines);
    if (logs) out.push(`last ${lines} log lines of ${v.container.name}:\n${logs}`);
  }
  return out.join('\n');
}
