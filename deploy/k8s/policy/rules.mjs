// The repository's own policy every rendered overlay must pass, on top of Trivy's Kubernetes checks (trivy.mjs: run
// as non-root, seccomp, privilege escalation, capabilities, read-only root, host namespaces, ports and paths,
// resources set, ...): what only this repository can know (its services, ports, callers, the images' user, the
// services' shutdown grace, compose's limits, digests in production) and what the Trivy build the tests use does not see.
// Each rule reads exactly the fields it requires, so a misspelled or missing field fails the rule.
// deploy/k8s/test/rules.test.mjs proves every rule can fail with a deliberately bad manifest.

export const NAME_LABEL = 'app.kubernetes.io/name';
export const PSS_LEVEL = 'restricted';
export const PSS_MODES = ['enforce', 'audit', 'warn'];
export const PROBES = { startupProbe: '/health/startup', livenessProbe: '/health/live', readinessProbe: '/health/ready' };
const DIGEST_REF = /^[a-z0-9][a-z0-9.-]*(?::\d+)?(?:\/[a-z0-9._-]+)+@sha256:[0-9a-f]{64}$/;
const DNS = { namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' }, port: 53 };

// ---------------------------------------------------------------------------------------------------------------
// Reading the rendered objects

const isObject = (value) => value !== null && typeof value === 'object' && !Array.isArray(value);
const labelsMatch = (selector, labels) => isObject(selector) && Object.entries(selector).every(([key, value]) => labels?.[key] === value);
const sameKeys = (object, keys) => isObject(object) && Object.keys(object).sort().join() === [...keys].sort().join();
const list = (value) => (Array.isArray(value) ? value : []);

/** Everything the rules look at, indexed once. */
export function inspect(objects, facts, environment) {
  const of = (kind) => objects.filter((object) => object?.kind === kind);
  const workloads = of('Deployment').map((deployment) => {
    const template = deployment.spec?.template ?? {};
    const spec = template.spec ?? {};
    const service = template.metadata?.labels?.[NAME_LABEL] ?? deployment.metadata?.name;
    const containers = [...list(spec.initContainers), ...list(spec.containers)];
    return { deployment, service, labels: template.metadata?.labels ?? {}, spec, containers, where: `Deployment/${deployment.metadata?.name}` };
  });
  return {
    objects,
    facts,
    environment,
    of,
    workloads,
    named: (kind, name) => of(kind).find((object) => object.metadata?.name === name),
    policiesFor: (workload) =>
      of('NetworkPolicy').filter(
        (policy) => labelsMatch(policy.spec?.podSelector?.matchLabels ?? {}, workload.labels) && !policy.spec?.podSelector?.matchExpressions,
      ),
  };
}

const SUFFIXES = { m: 1e-3, k: 1e3, M: 1e6, G: 1e9, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 };
/** A Kubernetes quantity ("500m", "0.5", "256Mi") as a number; NaN when it is not one. */
function quantity(value) {
  const match = /^(\d+(?:\.\d+)?)(m|k|M|G|Ki|Mi|Gi)?$/.exec(String(value ?? ''));
  return match ? Number(match[1]) * (match[2] ? SUFFIXES[match[2]] : 1) : NaN;
}

/** A container's env as a map of literal values (valueFrom entries map to undefined). */
const envOf = (container) => Object.fromEntries(list(container.env).map((entry) => [entry.name, entry.value]));

/** The container port a probe or Service targetPort names (a number, or the name of a container port). */
function resolvePort(container, port) {
  if (typeof port === 'number') return port;
  return list(container.ports).find((p) => p.name === port)?.containerPort;
}

/** Runs `check` per container, prefixing each problem with where it is. */
function perContainer(ctx, check) {
  return ctx.workloads.flatMap((w) => w.containers.flatMap((c) => list(check(c, w)).map((problem) => `${w.where} container ${c.name}: ${problem}`)));
}

function perWorkload(ctx, check) {
  return ctx.workloads.flatMap((w) => list(check(w)).map((problem) => `${w.where}: ${problem}`));
}

/** The Secret volume and item a file path inside a container resolves to. */
function secretFile(workload, container, file) {
  const mount = list(container.volumeMounts).find((m) => typeof file === 'string' && file.startsWith(`${m.mountPath.replace(/\/$/, '')}/`));
  if (!mount) return { problem: `${file} is on no volume mount` };
  const volume = list(workload.spec.volumes).find((v) => v.name === mount.name);
  if (!volume?.secret) return { problem: `${file} is on volume ${mount.name}, which is not a Secret` };
  if (mount.readOnly !== true) return { problem: `the Secret mount ${mount.mountPath} is not readOnly` };
  const relative = file.slice(mount.mountPath.replace(/\/$/, '').length + 1);
  const item = list(volume.secret.items).find((i) => i.path === relative);
  if (!item) return { problem: `${file}: the Secret volume ${mount.name} lists no item ${relative} (list the keys with items:)` };
  const mode = item.mode ?? volume.secret.defaultMode ?? 0o644;
  if (mode & 0o007) return { problem: `${file} is readable by other users (mode 0${mode.toString(8)})` };
  return { volume, item };
}

// ---------------------------------------------------------------------------------------------------------------
// The rules

/** @type {{ id: string, title: string, check: (ctx: ReturnType<typeof inspect>) => string[] }[]} */
export const RULES = [
  {
    id: 'coverage',
    title: 'every service has a Deployment, Service, ServiceAccount, PodDisruptionBudget and NetworkPolicy; no unknown workload',
    check: (ctx) => {
      const problems = [];
      for (const name of Object.keys(ctx.facts.services)) {
        for (const kind of ['Deployment', 'Service', 'ServiceAccount', 'PodDisruptionBudget', 'NetworkPolicy']) {
          if (!ctx.named(kind, name)) problems.push(`service ${name} has no ${kind} named ${name}`);
        }
      }
      for (const w of ctx.workloads) if (!ctx.facts.services[w.service]) problems.push(`${w.where}: ${w.service} is not a service under apps/`);
      const kinds = new Set(['Namespace', 'Deployment', 'Service', 'ServiceAccount', 'PodDisruptionBudget', 'NetworkPolicy', 'Secret']);
      for (const object of ctx.objects) if (!kinds.has(object?.kind)) problems.push(`unexpected ${object?.kind}/${object?.metadata?.name}`);
      return problems;
    },
  },
  {
    id: 'namespace-pss',
    title: `one Namespace, labelled pod-security.kubernetes.io/{${PSS_MODES.join(',')}}: ${PSS_LEVEL}, holding every object`,
    check: (ctx) => {
      const namespaces = ctx.of('Namespace');
      if (namespaces.length !== 1) return [`expected exactly one Namespace, found ${namespaces.length}`];
      const [namespace] = namespaces;
      const name = namespace.metadata?.name;
      const problems = PSS_MODES.filter((mode) => namespace.metadata?.labels?.[`pod-security.kubernetes.io/${mode}`] !== PSS_LEVEL).map(
        (mode) => `Namespace/${name}: pod-security.kubernetes.io/${mode} is not ${PSS_LEVEL}`,
      );
      for (const object of ctx.objects.filter((o) => o.kind !== 'Namespace')) {
        if (object.metadata?.namespace !== name) problems.push(`${object.kind}/${object.metadata?.name} is not in namespace ${name}`);
      }
      return problems;
    },
  },
  {
    id: 'run-as-image-user',
    title: "pod and containers run as the images' USER uid:gid (docker/service/Dockerfile), with no other group",
    check: (ctx) => {
      const { uid, gid } = ctx.facts.imageUser;
      const expected = { runAsUser: uid, runAsGroup: gid };
      return [
        ...perWorkload(ctx, (w) => {
          const context = w.spec.securityContext ?? {};
          const problems = Object.entries(expected)
            .filter(([key, id]) => context[key] !== id)
            .map(([key, id]) => `pod securityContext.${key} is not ${id}`);
          // the Secret files are readable by this group (mode 0440); any other group is a privilege the image lacks
          if (context.fsGroup !== undefined && context.fsGroup !== gid) problems.push(`pod securityContext.fsGroup is ${context.fsGroup}, not ${gid}`);
          const others = list(context.supplementalGroups).filter((group) => group !== gid);
          if (others.length) problems.push(`pod securityContext.supplementalGroups has ${others.join(',')}, not only ${gid}`);
          return problems;
        }),
        ...perContainer(ctx, (c) =>
          Object.entries(expected)
            .filter(([key, id]) => c.securityContext?.[key] !== undefined && c.securityContext[key] !== id)
            .map(([key, id]) => `securityContext.${key} is ${c.securityContext[key]}, not ${id}`),
        ),
      ];
    },
  },
  {
    id: 'apparmor-profile',
    // Trivy's KSV002 reads the AppArmor annotation only, not the securityContext field of Kubernetes 1.30+.
    title: 'no Unconfined AppArmor profile in a pod or container securityContext (the field Trivy does not read)',
    check: (ctx) => [
      ...perWorkload(ctx, (w) => (w.spec.securityContext?.appArmorProfile?.type === 'Unconfined' ? ['pod appArmorProfile Unconfined'] : [])),
      ...perContainer(ctx, (c) => (c.securityContext?.appArmorProfile?.type === 'Unconfined' ? ['appArmorProfile Unconfined'] : [])),
    ],
  },
  {
    id: 'tmp-emptydir',
    title: 'a size-limited emptyDir mounted at /tmp in every container (the root filesystem is read-only)',
    check: (ctx) =>
      perContainer(ctx, (c, w) => {
        const mount = list(c.volumeMounts).find((m) => m.mountPath === '/tmp');
        const volume = mount && list(w.spec.volumes).find((v) => v.name === mount.name);
        if (!volume?.emptyDir) return ['no emptyDir volume mounted at /tmp'];
        return volume.emptyDir.sizeLimit ? [] : [`the /tmp emptyDir ${volume.name} has no sizeLimit`];
      }),
  },
  {
    id: 'probes',
    title: 'startup, liveness and readiness probes: HTTP GET /health/startup, /health/live, /health/ready on the service port',
    check: (ctx) =>
      perContainer(ctx, (c, w) =>
        Object.entries(PROBES).flatMap(([probe, pathExpected]) => {
          const get = c[probe]?.httpGet;
          if (!get) return [`no ${probe} with httpGet`];
          const problems = get.path === pathExpected ? [] : [`${probe} path is ${get.path}, not ${pathExpected}`];
          const port = resolvePort(c, get.port);
          const servicePort = ctx.facts.services[w.service]?.port;
          if (port !== servicePort) problems.push(`${probe} port ${get.port} is not the service port ${servicePort}`);
          return problems;
        }),
      ),
  },
  {
    id: 'resources',
    title: 'the limits those of compose (docker/compose/hardening.yaml), requests within them (Trivy checks they are set)',
    check: (ctx) =>
      perContainer(ctx, (c) => {
        const problems = [];
        const { memoryBytes, cpus } = ctx.facts.limits;
        const limits = c.resources?.limits ?? {};
        const requests = c.resources?.requests ?? {};
        if (quantity(limits.memory) !== memoryBytes) problems.push(`limits.memory ${limits.memory} is not compose's ${memoryBytes / 1024 ** 2}Mi`);
        if (quantity(limits.cpu) !== cpus) problems.push(`limits.cpu ${limits.cpu} is not compose's ${cpus}`);
        for (const r of ['cpu', 'memory'])
          if (requests[r] !== undefined && !(quantity(requests[r]) <= quantity(limits[r]))) problems.push(`requests.${r} ${requests[r]} is above limits.${r}`);
        return problems;
      }),
  },
  {
    id: 'prestop-sleep',
    title: 'a native preStop sleep (no exec: the images have no shell) of at least 1 s in every container',
    check: (ctx) =>
      perContainer(ctx, (c) => {
        const preStop = c.lifecycle?.preStop;
        if (preStop?.exec) return ['preStop uses exec, but the images have no shell or sleep binary'];
        return Number.isInteger(preStop?.sleep?.seconds) && preStop.sleep.seconds >= 1 ? [] : ['no lifecycle.preStop.sleep.seconds >= 1'];
      }),
  },
  {
    id: 'termination-grace',
    title: "terminationGracePeriodSeconds above preStop sleep + the service's SHUTDOWN_GRACE_MS",
    check: (ctx) =>
      perWorkload(ctx, (w) => {
        const grace = w.spec.terminationGracePeriodSeconds;
        if (!Number.isInteger(grace)) return ['no terminationGracePeriodSeconds'];
        return w.containers.flatMap((c) => {
          const shutdownMs = Number(envOf(c).SHUTDOWN_GRACE_MS ?? ctx.facts.services[w.service]?.shutdownGraceMs);
          const sleep = c.lifecycle?.preStop?.sleep?.seconds ?? 0;
          const needed = sleep + shutdownMs / 1000;
          return grace > needed
            ? []
            : [`terminationGracePeriodSeconds ${grace} is not above preStop sleep ${sleep} s + SHUTDOWN_GRACE_MS ${shutdownMs} ms of container ${c.name}`];
        });
      }),
  },
  {
    id: 'service-account-token',
    title: 'its own ServiceAccount, and no service-account token mounted (automountServiceAccountToken: false on both)',
    check: (ctx) =>
      perWorkload(ctx, (w) => {
        const problems = [];
        if (w.spec.automountServiceAccountToken !== false) problems.push('pod automountServiceAccountToken is not false');
        if (w.spec.serviceAccountName !== w.service) problems.push(`serviceAccountName is ${w.spec.serviceAccountName ?? '(default)'}, not ${w.service}`);
        const account = w.spec.serviceAccountName && ctx.named('ServiceAccount', w.spec.serviceAccountName);
        if (w.spec.serviceAccountName && !account) problems.push(`no ServiceAccount ${w.spec.serviceAccountName}`);
        else if (!account) problems.push('runs as the namespace default ServiceAccount');
        else if (account.automountServiceAccountToken !== false)
          problems.push(`ServiceAccount/${account.metadata.name} automountServiceAccountToken is not false`);
        return problems;
      }),
  },
  {
    id: 'pod-disruption-budget',
    title: 'a PodDisruptionBudget selecting the pods that still lets a drain proceed; two replicas or more in production',
    check: (ctx) =>
      perWorkload(ctx, (w) => {
        const budgets = ctx.of('PodDisruptionBudget').filter((pdb) => labelsMatch(pdb.spec?.selector?.matchLabels, w.labels));
        const problems = budgets.length ? [] : ['no PodDisruptionBudget selects its pods'];
        for (const pdb of budgets) {
          const { maxUnavailable, minAvailable } = pdb.spec;
          if (maxUnavailable === undefined && minAvailable === undefined)
            problems.push(`PodDisruptionBudget/${pdb.metadata.name} sets neither maxUnavailable nor minAvailable`);
          if (maxUnavailable === 0 || maxUnavailable === '0%') problems.push(`PodDisruptionBudget/${pdb.metadata.name} maxUnavailable 0 blocks every drain`);
          if (Number.isInteger(minAvailable) && minAvailable >= (w.deployment.spec?.replicas ?? 1))
            problems.push(`PodDisruptionBudget/${pdb.metadata.name} minAvailable ${minAvailable} blocks every drain`);
        }
        if (ctx.environment === 'production' && !((w.deployment.spec?.replicas ?? 1) >= 2))
          problems.push(`replicas ${w.deployment.spec?.replicas ?? 1}: production runs at least 2`);
        return problems;
      }),
  },
  {
    id: 'network-default-deny',
    title: 'a namespace-wide default-deny NetworkPolicy, and every service pod under a policy for both Ingress and Egress',
    check: (ctx) => {
      const denyAll = ctx
        .of('NetworkPolicy')
        .find(
          (p) =>
            sameKeys(p.spec?.podSelector ?? {}, []) &&
            sameKeys(Object.fromEntries(list(p.spec?.policyTypes).map((t) => [t, 1])), ['Ingress', 'Egress']) &&
            !list(p.spec.ingress).length &&
            !list(p.spec.egress).length,
        );
      const problems = denyAll ? [] : ['no NetworkPolicy with podSelector {} and policyTypes [Ingress, Egress] that allows nothing'];
      // The network rules read matchLabels; a matchExpressions selector anywhere would escape them, so it is refused.
      for (const policy of ctx.of('NetworkPolicy'))
        if (JSON.stringify(policy.spec ?? {}).includes('"matchExpressions"'))
          problems.push(`NetworkPolicy/${policy.metadata?.name} uses matchExpressions (the checks read matchLabels only)`);
      for (const w of ctx.workloads) {
        const own = ctx.policiesFor(w).filter((p) => !sameKeys(p.spec.podSelector ?? {}, []));
        for (const type of ['Ingress', 'Egress'])
          if (!own.some((p) => list(p.spec.policyTypes).includes(type))) problems.push(`${w.where}: no NetworkPolicy of its own restricts ${type}`);
      }
      return problems;
    },
  },
  {
    id: 'network-ingress-callers',
    title: 'ingress only from the declared callers (metadata.calls in apps/<service>/project.json), on the service port',
    check: (ctx) =>
      perWorkload(ctx, (w) => {
        const port = ctx.facts.services[w.service]?.port;
        const declared = ctx.facts.calls
          .filter((call) => call.callee === w.service)
          .map((call) => call.caller)
          .sort();
        const allowed = [];
        const problems = [];
        for (const policy of ctx.policiesFor(w)) {
          for (const rule of list(policy.spec.ingress)) {
            const from = list(rule.from);
            const peers = from.map((peer) =>
              sameKeys(peer, ['podSelector']) && sameKeys(peer.podSelector, ['matchLabels']) && sameKeys(peer.podSelector.matchLabels, [NAME_LABEL])
                ? peer.podSelector.matchLabels[NAME_LABEL]
                : null,
            );
            if (!from.length || peers.includes(null))
              problems.push(`NetworkPolicy/${policy.metadata.name} admits ingress from more than named pods of this namespace`);
            const ports = list(rule.ports);
            if (!ports.length || ports.some((p) => (p.protocol ?? 'TCP') !== 'TCP' || p.port !== port || p.endPort))
              problems.push(`NetworkPolicy/${policy.metadata.name} admits ingress on other ports than TCP ${port}`);
            allowed.push(...peers.filter(Boolean));
          }
        }
        const got = [...new Set(allowed)].sort();
        if (got.join() !== declared.join()) problems.push(`ingress admitted from [${got.join(', ')}], declared callers are [${declared.join(', ')}]`);
        return problems;
      }),
  },
  {
    id: 'network-egress-callees-dns',
    title: 'egress only to the declared callees on their ports, and to cluster DNS (kube-dns, UDP and TCP 53)',
    check: (ctx) =>
      perWorkload(ctx, (w) => {
        const declared = ctx.facts.calls
          .filter((call) => call.caller === w.service)
          .map((call) => call.callee)
          .sort();
        const reached = [];
        const problems = [];
        let dns = false;
        for (const policy of ctx.policiesFor(w)) {
          for (const rule of list(policy.spec.egress)) {
            const to = list(rule.to);
            const ports = list(rule.ports);
            const where = `NetworkPolicy/${policy.metadata.name}`;
            const isDns =
              to.length > 0 &&
              to.every(
                (peer) =>
                  sameKeys(peer, ['namespaceSelector', 'podSelector']) &&
                  sameKeys(peer.namespaceSelector, ['matchLabels']) &&
                  sameKeys(peer.namespaceSelector.matchLabels, ['kubernetes.io/metadata.name']) &&
                  peer.namespaceSelector.matchLabels['kubernetes.io/metadata.name'] === DNS.namespace &&
                  sameKeys(peer.podSelector, ['matchLabels']) &&
                  sameKeys(peer.podSelector.matchLabels, Object.keys(DNS.labels)) &&
                  labelsMatch(DNS.labels, peer.podSelector.matchLabels),
              );
            if (isDns) {
              const protocols = ports.filter((p) => p.port === DNS.port && !p.endPort).map((p) => p.protocol ?? 'TCP');
              if (ports.length !== protocols.length || !protocols.includes('UDP') || !protocols.includes('TCP'))
                problems.push(`${where}: the DNS rule is not exactly UDP and TCP ${DNS.port}`);
              else dns = true;
              continue;
            }
            const peers = to.map((peer) =>
              sameKeys(peer, ['podSelector']) && sameKeys(peer.podSelector, ['matchLabels']) && sameKeys(peer.podSelector.matchLabels, [NAME_LABEL])
                ? peer.podSelector.matchLabels[NAME_LABEL]
                : null,
            );
            if (!to.length || peers.includes(null)) {
              problems.push(`${where} allows egress to more than named pods of this namespace and DNS`);
              continue;
            }
            for (const callee of peers) {
              const port = ctx.facts.services[callee]?.port;
              if (!ports.length || ports.some((p) => (p.protocol ?? 'TCP') !== 'TCP' || p.port !== port || p.endPort))
                problems.push(`${where} allows egress to ${callee} on other ports than TCP ${port}`);
              reached.push(callee);
            }
          }
        }
        if (!dns) problems.push('no egress rule for DNS (kube-dns in kube-system, UDP and TCP 53)');
        const got = [...new Set(reached)].sort();
        if (got.join() !== declared.join()) problems.push(`egress allowed to [${got.join(', ')}], declared callees are [${declared.join(', ')}]`);
        return problems;
      }),
  },
  {
    id: 'secrets-as-files',
    title: 'API keys only as read-only Secret files read through *_FILE (API_KEY_FILE, and each callee key); never env values',
    check: (ctx) =>
      perContainer(ctx, (c, w) => {
        const problems = [];
        for (const entry of list(c.env)) {
          if (entry.valueFrom?.secretKeyRef) problems.push(`env ${entry.name} comes from a Secret as a variable; mount it as a file`);
          if (/(^|_)(API_KEY|TOKEN|PASSWORD|SECRET)$/.test(entry.name)) problems.push(`env ${entry.name} carries a secret value; use ${entry.name}_FILE`);
        }
        for (const source of list(c.envFrom)) if (source.secretRef) problems.push(`envFrom Secret ${source.secretRef.name}: mount it as files`);
        const env = envOf(c);
        const required = [
          'API_KEY_FILE',
          ...ctx.facts.calls.filter((call) => call.caller === w.service && call.keyFileVariable).map((call) => call.keyFileVariable),
        ];
        for (const variable of required) if (!env[variable]) problems.push(`no ${variable}`);
        for (const [variable, file] of Object.entries(env).filter(([name]) => name.endsWith('_FILE'))) {
          const resolved = secretFile(w, c, file);
          if (resolved.problem) {
            problems.push(`${variable}: ${resolved.problem}`);
            continue;
          }
          // dev: the Secret is rendered (its content is the sync's copy of the service's development key, which
          // `nx sync:check` keeps equal to apps/<service>/dev-secrets/api-key)
          if (ctx.environment === 'dev' && ctx.named('Secret', resolved.volume.secret.secretName)?.data?.[resolved.item.key] === undefined)
            problems.push(`${variable}: Secret ${resolved.volume.secret.secretName} with key ${resolved.item.key} is not in the render`);
        }
        return problems;
      }),
  },
  {
    id: 'production-secrets-external',
    title: 'production renders no Secret: real keys are created in the cluster, never committed',
    check: (ctx) => (ctx.environment === 'production' ? ctx.of('Secret').map((s) => `Secret/${s.metadata?.name} is rendered (and so committed)`) : []),
  },
  {
    id: 'ports',
    title: "the container port, PORT and the Service port are the image's PORT (apps/<service>/project.json)",
    check: (ctx) =>
      perWorkload(ctx, (w) => {
        const port = ctx.facts.services[w.service]?.port;
        const problems = [];
        for (const c of w.containers) {
          if (resolvePort(c, 'http') !== port) problems.push(`container ${c.name}: port http is ${resolvePort(c, 'http')}, not ${port}`);
          if (envOf(c).PORT !== String(port)) problems.push(`container ${c.name}: PORT is ${envOf(c).PORT}, not ${port}`);
        }
        const service = ctx.named('Service', w.service);
        if (!service) return [...problems, `no Service ${w.service}`];
        if (!labelsMatch(service.spec?.selector, w.labels)) problems.push(`Service/${w.service} does not select its pods`);
        const ports = list(service.spec?.ports);
        if (ports.length !== 1 || ports[0].port !== port || resolvePort(w.containers[0], ports[0].targetPort ?? ports[0].port) !== port)
          problems.push(`Service/${w.service} is not exactly port ${port} to the container's port ${port}`);
        return problems;
      }),
  },
  {
    id: 'images',
    title: "each container runs its service's image; in production by digest only (name@sha256:…, no tag)",
    check: (ctx) =>
      perContainer(ctx, (c, w) => {
        const image = String(c.image ?? '');
        const repository = image.split('@')[0].replace(/:[^/]*$/, '');
        const problems = repository.split('/').pop() === w.service ? [] : [`image ${image} is not the ${w.service} image`];
        if (ctx.environment === 'production' && !DIGEST_REF.test(image)) problems.push(`image ${image} is not by digest (name@sha256:<64 hex>, no tag)`);
        return problems;
      }),
  },
];

/** Every rule over the rendered objects: [{ rule, message }], empty when everything passes. */
export function checkObjects(objects, facts, { environment }) {
  const ctx = inspect(objects, facts, environment);
  return RULES.flatMap((rule) => rule.check(ctx).map((message) => ({ rule: rule.id, message })));
}
