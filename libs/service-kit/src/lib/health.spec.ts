import { Health, HealthCheckError, HEALTH_CONTENT_TYPE, type HealthCheck } from './health';

const FIXED = new Date('2030-01-02T03:04:05.000Z');

function makeHealth(onCheckError?: (name: string, err: unknown) => void) {
  return new Health({ serviceId: 'svc', releaseId: '1.2.3', now: () => FIXED, onCheckError });
}

function check(name: string, run: HealthCheck['run'], extra: Partial<HealthCheck> = {}): HealthCheck {
  return { name, kinds: ['readiness'], run, ...extra };
}

/** A promise plus its resolver, to hold a check open without timers. */
function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('Health', () => {
  it('uses the IETF health+json media type', () => {
    expect(HEALTH_CONTENT_TYPE).toBe('application/health+json');
  });

  it('fails readiness while starting, passes after markStarted, fails again from beginShutdown', async () => {
    const health = makeHealth();
    const starting = await health.report('ready');
    expect(starting.httpStatus).toBe(503);
    expect(starting.body).toMatchObject({
      status: 'fail',
      serviceId: 'svc',
      releaseId: '1.2.3',
      version: '1',
      output: 'failing: lifecycle:state',
      checks: { 'lifecycle:state': [{ status: 'fail', observedValue: 'starting', output: 'starting', time: FIXED.toISOString() }] },
    });

    health.markStarted();
    expect(health.state).toBe('ready');
    const ready = await health.report('ready');
    expect(ready.httpStatus).toBe(200);
    expect(ready.body.status).toBe('pass');
    expect(ready.body.output).toBeUndefined();

    health.beginShutdown();
    health.markStarted(); // no way back once shutting down
    const stopping = await health.report('ready');
    expect(stopping.httpStatus).toBe(503);
    expect(stopping.body.checks['lifecycle:state'][0]).toMatchObject({ status: 'fail', observedValue: 'shutting-down' });
  });

  it('keeps liveness passing while starting and shutting down', async () => {
    const health = makeHealth();
    expect((await health.report('live')).httpStatus).toBe(200);
    health.beginShutdown();
    const live = await health.report('live');
    expect(live.httpStatus).toBe(200);
    expect(live.body.checks['process:uptime'][0]).toMatchObject({ status: 'pass', componentType: 'system', observedUnit: 's' });
    expect(live.body.checks['lifecycle:state']).toBeUndefined();
  });

  it('startup passes once started, even while shutting down', async () => {
    const health = makeHealth();
    expect((await health.report('startup')).httpStatus).toBe(503);
    health.markStarted();
    health.beginShutdown();
    expect((await health.report('startup')).httpStatus).toBe(200);
  });

  it('aggregates: a required failure fails, an optional failure or a warn only warns', async () => {
    const health = makeHealth();
    health.markStarted();
    health.addCheck(check('db:connections', () => ({ observedValue: 3, observedUnit: 'connections' })));
    health.addCheck(check('cache:responseTime', () => ({ status: 'fail', output: 'slow' }), { required: false }));
    let report = await health.report('ready');
    expect(report.httpStatus).toBe(200);
    expect(report.body.status).toBe('warn');
    expect(report.body.output).toBe('degraded: cache:responseTime');
    expect(report.body.checks['db:connections']).toEqual([
      { componentType: 'component', status: 'pass', observedValue: 3, observedUnit: 'connections', time: FIXED.toISOString() },
    ]);
    expect(report.body.checks['cache:responseTime'][0]).toMatchObject({ status: 'fail', output: 'slow' });

    health.addCheck(check('queue:depth', () => ({ status: 'warn', observedValue: 900 })));
    report = await health.report('ready');
    expect(report.body.status).toBe('warn');

    health.addCheck(check('catalog:responseTime', () => ({ status: 'fail', output: 'down' })));
    report = await health.report('ready');
    expect(report.httpStatus).toBe(503);
    expect(report.body.status).toBe('fail');
    expect(report.body.output).toContain('catalog:responseTime');
  });

  it('runs only the checks of each probe; /health runs all of them', async () => {
    const health = makeHealth();
    health.markStarted();
    health.addCheck({ name: 'heap:utilization', kinds: ['liveness'], run: () => undefined });
    health.addCheck({ name: 'migrations:applied', kinds: ['startup'], run: () => undefined });
    health.addCheck({ name: 'catalog:responseTime', kinds: ['readiness'], run: () => undefined });
    const keys = async (probe: 'live' | 'ready' | 'startup' | 'all') => Object.keys((await health.report(probe)).body.checks).sort();
    expect(await keys('live')).toEqual(['heap:utilization', 'process:uptime']);
    expect(await keys('startup')).toEqual(['lifecycle:state', 'migrations:applied']);
    expect(await keys('ready')).toEqual(['catalog:responseTime', 'lifecycle:state', 'migrations:applied']);
    expect(await keys('all')).toEqual(['catalog:responseTime', 'heap:utilization', 'lifecycle:state', 'migrations:applied', 'process:uptime']);
  });

  it('fails a check that exceeds its timeout and aborts its signal', async () => {
    const health = makeHealth();
    health.markStarted();
    let seen: AbortSignal | undefined;
    health.addCheck(
      check(
        'slow:responseTime',
        (signal) => {
          seen = signal;
          return new Promise(() => undefined); // never settles
        },
        { timeoutMs: 20 },
      ),
    );
    const report = await health.report('ready');
    expect(report.httpStatus).toBe(503);
    expect(report.body.checks['slow:responseTime'][0]).toMatchObject({ status: 'fail', output: 'timed out after 20 ms' });
    expect(seen?.aborted).toBe(true);
  });

  it('shows a HealthCheckError message but hides other errors (and reports them)', async () => {
    const reported: string[] = [];
    const health = makeHealth((name) => reported.push(name));
    health.markStarted();
    health.addCheck(
      check('a:x', () => {
        throw new HealthCheckError('upstream answered 503');
      }),
    );
    health.addCheck(
      check('b:x', async () => {
        throw new Error('connect ECONNREFUSED 10.0.0.7:5432 password=oops');
      }),
    );
    const report = await health.report('ready');
    expect(report.body.checks['a:x'][0].output).toBe('upstream answered 503');
    expect(report.body.checks['b:x'][0].output).toBe('check failed');
    expect(JSON.stringify(report.body)).not.toContain('oops');
    expect(reported).toEqual(['b:x']);
  });

  it('shares one run of a check between concurrent probes', async () => {
    const health = makeHealth();
    health.markStarted();
    const gate = deferred();
    let runs = 0;
    health.addCheck(
      check(
        'dep:responseTime',
        async () => {
          runs++;
          await gate.promise;
        },
        { cacheMs: 0 },
      ),
    );
    const both = Promise.all([health.report('ready'), health.report('all')]);
    gate.resolve();
    const [ready, all] = await both;
    expect(runs).toBe(1);
    expect(ready.httpStatus).toBe(200);
    expect(all.httpStatus).toBe(200);
    await health.report('ready');
    expect(runs).toBe(2);
  });

  it('rejects duplicate check names', () => {
    const health = makeHealth();
    health.addCheck(check('a:b', () => undefined));
    expect(() => health.addCheck(check('a:b', () => undefined))).toThrow(/already registered/);
    expect(() => health.addCheck(check('lifecycle:state', () => undefined))).toThrow(/already registered/);
  });

  describe('readiness amplification (a probe flood must not become a flood downstream)', () => {
    function counting() {
      let now = 0;
      const health = new Health({ serviceId: 'svc', releaseId: '1.2.3', now: () => FIXED, clock: () => now });
      const gate = deferred();
      let calls = 0;
      health.addCheck(
        check(
          'dep:responseTime',
          async () => {
            calls++;
            await gate.promise;
            return { status: calls % 2 ? 'pass' : 'fail' };
          },
          { cacheMs: 1000 },
        ),
      );
      health.markStarted();
      return { health, gate, calls: () => calls, advance: (ms: number) => (now += ms) };
    }

    it('N concurrent probes share one in-flight call; later probes in the TTL window reuse its result', async () => {
      const { health, gate, calls, advance } = counting();
      const flood = Array.from({ length: 200 }, () => health.report('ready'));
      await new Promise((resolve) => setImmediate(resolve));
      expect(calls()).toBe(1);
      gate.resolve();
      const reports = await Promise.all(flood);
      expect(new Set(reports.map((r) => r.httpStatus))).toEqual(new Set([200]));
      advance(999);
      await Promise.all(Array.from({ length: 50 }, () => health.report('all')));
      expect(calls()).toBe(1);
      advance(1);
      const after = await Promise.all(Array.from({ length: 50 }, () => health.report('ready')));
      expect(calls()).toBe(2); // one more call for the next window, shared again
      expect(after[0].httpStatus).toBe(503); // and its (failing) result is what every probe sees, cached too
      advance(500);
      expect((await health.report('ready')).httpStatus).toBe(503);
      expect(calls()).toBe(2);
    });

    it('cacheMs 0 runs the check on every (non-concurrent) probe', async () => {
      const health = makeHealth();
      let calls = 0;
      health.addCheck(check('dep', () => void calls++, { cacheMs: 0 }));
      await health.report('ready');
      await health.report('ready');
      expect(calls).toBe(2);
    });
  });
});
