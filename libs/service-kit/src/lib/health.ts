/**
 * Liveness / readiness / startup checks reported in the IETF "Health Check
 * Response Format for HTTP APIs" draft format (application/health+json).
 */

export const HEALTH_CONTENT_TYPE = 'application/health+json';

export type HealthStatus = 'pass' | 'warn' | 'fail';
export type CheckKind = 'liveness' | 'readiness' | 'startup';
export type Probe = 'live' | 'ready' | 'startup' | 'all';
export type LifecycleState = 'starting' | 'ready' | 'shutting-down';

/** What a check function may return (all optional; returning nothing means pass). */
export interface CheckOutcome {
  status?: HealthStatus;
  output?: string;
  observedValue?: unknown;
  observedUnit?: string;
  componentId?: string;
}

/** One entry of a `checks` array in the response. */
export interface CheckResult extends CheckOutcome {
  status: HealthStatus;
  componentType?: string;
  time: string;
}

export interface HealthCheck {
  /** Key in the `checks` object, "component:measurement", e.g. "catalog:responseTime". */
  name: string;
  /** Which probes run this check. */
  kinds: readonly CheckKind[];
  /** A failing required check makes the probe fail (503); a failing optional one only warns. Default true. */
  required?: boolean;
  /** The check fails with "timed out" after this many ms; its signal is aborted. Default 1000. */
  timeoutMs?: number;
  /**
   * A result is reused for this many ms (default 1000): however many probes arrive, the check (a call to a
   * dependency, say) runs at most once per window; concurrent probes share the one in flight. 0 disables it.
   */
  cacheMs?: number;
  /** "component", "datastore" or "system" (IETF draft). Default "component". */
  componentType?: string;
  run: (signal: AbortSignal) => CheckOutcome | void | Promise<CheckOutcome | void>;
}

export interface HealthResponse {
  status: HealthStatus;
  version?: string;
  releaseId?: string;
  serviceId?: string;
  description?: string;
  output?: string;
  checks: Record<string, CheckResult[]>;
}

export interface HealthReport {
  httpStatus: 200 | 503;
  body: HealthResponse;
}

/** Thrown by a check to fail with a message that is safe to show in `output`. */
export class HealthCheckError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HealthCheckError';
  }
}

export interface HealthOptions {
  serviceId: string;
  releaseId: string;
  now?: () => Date;
  /** Monotonic ms clock for cacheMs (tests). Default performance.now. */
  clock?: () => number;
  /** Called when a check throws something other than HealthCheckError (for logging). */
  onCheckError?: (name: string, err: unknown) => void;
}

const DEFAULT_TIMEOUT_MS = 1000;
const DEFAULT_CACHE_MS = 1000;
const STATE_CHECK = 'lifecycle:state';
const UPTIME_CHECK = 'process:uptime';

function worst(a: HealthStatus, b: HealthStatus): HealthStatus {
  const rank = { pass: 0, warn: 1, fail: 2 } as const;
  return rank[a] >= rank[b] ? a : b;
}

export class Health {
  private lifecycle: LifecycleState = 'starting';
  private readonly checks = new Map<string, HealthCheck>();
  private readonly running = new Map<string, Promise<CheckResult>>();
  private readonly cached = new Map<string, { result: CheckResult; at: number }>();
  private readonly now: () => Date;
  private readonly clock: () => number;
  private readonly version: string;

  constructor(private readonly options: HealthOptions) {
    this.version = options.releaseId.split('.')[0];
    this.now = options.now ?? (() => new Date());
    this.clock = options.clock ?? (() => performance.now());
  }

  get state(): LifecycleState {
    return this.lifecycle;
  }

  /** Registers a check. Names must be unique. */
  addCheck(check: HealthCheck): this {
    if (this.checks.has(check.name) || check.name === STATE_CHECK || check.name === UPTIME_CHECK) {
      throw new Error(`health check ${check.name} is already registered`);
    }
    this.checks.set(check.name, check);
    return this;
  }

  /** The server is listening: startup passes and readiness can pass. */
  markStarted(): void {
    if (this.lifecycle === 'starting') this.lifecycle = 'ready';
  }

  /** Shutdown has begun: readiness fails from now on, whatever the checks say. */
  beginShutdown(): void {
    this.lifecycle = 'shutting-down';
  }

  /** Runs the checks of one probe and aggregates them. */
  async report(probe: Probe): Promise<HealthReport> {
    const time = this.now().toISOString();
    const checks: Record<string, CheckResult[]> = {};
    const failing: string[] = [];
    let status = 'pass' as HealthStatus;

    const add = (name: string, result: CheckResult, required: boolean) => {
      checks[name] = [result];
      const effective = result.status === 'fail' && !required ? 'warn' : result.status;
      if (effective !== 'pass') failing.push(name);
      status = worst(status, effective);
    };

    if (probe === 'live' || probe === 'all') {
      add(UPTIME_CHECK, { componentType: 'system', status: 'pass', observedValue: Math.round(process.uptime()), observedUnit: 's', time }, true);
    }
    if (probe !== 'live') add(STATE_CHECK, this.stateResult(probe, time), true);

    const selected = [...this.checks.values()].filter((c) => this.selects(probe, c));
    if (selected.length) {
      const results = await Promise.all(selected.map((c) => this.runOnce(c)));
      selected.forEach((c, i) => add(c.name, results[i], c.required !== false));
    }

    const body: HealthResponse = {
      status,
      version: this.version,
      releaseId: this.options.releaseId,
      serviceId: this.options.serviceId,
      description: `${this.options.serviceId} ${probe === 'all' ? 'health' : probe}`,
      ...(failing.length ? { output: `${status === 'fail' ? 'failing' : 'degraded'}: ${failing.join(', ')}` } : {}),
      checks,
    };
    return { httpStatus: status === 'fail' ? 503 : 200, body };
  }

  private selects(probe: Probe, check: HealthCheck): boolean {
    if (probe === 'all') return true;
    if (probe === 'live') return check.kinds.includes('liveness');
    if (probe === 'startup') return check.kinds.includes('startup');
    return check.kinds.includes('readiness') || check.kinds.includes('startup');
  }

  private stateResult(probe: Probe, time: string): CheckResult {
    const state = this.lifecycle;
    const ok = probe === 'startup' ? state !== 'starting' : state === 'ready';
    return { componentType: 'system', status: ok ? 'pass' : 'fail', observedValue: state, time, ...(ok ? {} : { output: state }) };
  }

  /**
   * Concurrent probes share one run of the same check, and its result is reused for cacheMs: a probe flood does not
   * become a flood on the dependency (failures are cached too, so a struggling dependency is not hammered).
   */
  private runOnce(check: HealthCheck): Promise<CheckResult> {
    const ttl = check.cacheMs ?? DEFAULT_CACHE_MS;
    const hit = this.cached.get(check.name);
    if (hit && this.clock() - hit.at < ttl) return Promise.resolve(hit.result);
    const pending = this.running.get(check.name);
    if (pending) return pending;
    const run = this.execute(check)
      .then((result) => {
        if (ttl > 0) this.cached.set(check.name, { result, at: this.clock() });
        return result;
      })
      .finally(() => this.running.delete(check.name));
    this.running.set(check.name, run);
    return run;
  }

  private async execute(check: HealthCheck): Promise<CheckResult> {
    const timeoutMs = check.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const componentType = check.componentType ?? 'component';
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
      timer.unref?.();
    });
    try {
      const outcome = await Promise.race([Promise.resolve().then(() => check.run(controller.signal)), timeout]);
      const time = this.now().toISOString();
      if (outcome === 'timeout') {
        controller.abort(new HealthCheckError(`timed out after ${timeoutMs} ms`));
        return { componentType, status: 'fail', output: `timed out after ${timeoutMs} ms`, time };
      }
      return { componentType, status: 'pass', ...(outcome ?? {}), time };
    } catch (err) {
      const time = this.now().toISOString();
      if (!(err instanceof HealthCheckError)) this.options.onCheckError?.(check.name, err);
      const output = err instanceof HealthCheckError ? err.message : 'check failed';
      return { componentType, status: 'fail', output, time };
    } finally {
      clearTimeout(timer);
    }
  }
}

export function createHealth(options: HealthOptions): Health {
  return new Health(options);
}
