#!/usr/bin/env node
// The local stack, hardened and healthy, in one command (`npm start` = up, `npm stop` = down).
//   up      preflight (engine >= 25, buildx, Compose v2), build what is missing or changed through
//           Nx, `compose up --detach`, wait until every container is healthy, print each URL and a request to try.
//           Exits non-zero with the failing service's last log lines when something does not come up.
//   down    `compose down --remove-orphans --volumes`, then checks nothing of the project is left.
//   status  state, health and URL of each service.
// Usage: node tools/stack.mjs <up|down|status> [--file FILE] [--project NAME] [--no-build] [--timeout SECONDS]
import { existsSync } from 'node:fs';
import path from 'node:path';
import { COMPOSE_PROJECT } from './lib/defaults.cjs';
import { detectDocker, toolchainProblems } from './lib/docker-engine.mjs';
import { fail, isMain, runMain } from './lib/cli.mjs';
import { workspaceRoot } from './lib/workspace.mjs';
import { parseStackArgs, USAGE } from './lib/stack/options.mjs';
import { ComposeStack, describeCompose } from './lib/stack/compose.mjs';
import { diagnose, verdict, waitHealthy } from './lib/stack/health.mjs';
import { buildableServices, buildImages } from './lib/stack/images.mjs';
import { apiKeyFile, sampleCurl, serviceUrl } from './lib/stack/report.mjs';
import { secretFileProblems } from './lib/stack/secret-files.mjs';
import { listServices, portVariable } from './lib/services.mjs';

const say = (line) => console.log(`stack: ${line}`);
const warn = (line) => console.error(`stack: ${line}`);

/** Every reason this machine cannot run the command, one actionable line each. */
export function preflightProblems(toolchain, { build }) {
  // Only building needs buildx; down/status/--no-build just need an engine and Compose v2.
  const problems = toolchainProblems(toolchain, { needCompose: true, needBuildx: build });
  if (build && !existsSync(path.join(workspaceRoot, 'node_modules/nx/package.json')))
    problems.push('the workspace has no node_modules (Nx builds the images): run npm ci first');
  return problems;
}

async function preflight(options) {
  const toolchain = await detectDocker();
  const problems = preflightProblems(toolchain, options);
  if (problems.length) {
    for (const problem of problems) warn(`preflight: ${problem}`);
    fail(`preflight failed (${problems.length} problem${problems.length > 1 ? 's' : ''} above)`, 1);
  }
  say(`engine ${toolchain.serverVersion} (${toolchain.imageStore} image store), buildx ${toolchain.buildxVersion ?? 'absent'}, ${describeCompose(toolchain)}`);
  return toolchain;
}

const relative = (file) => path.relative(process.cwd(), file) || file;

async function up({ file, project, build, timeoutMs }) {
  const toolchain = await preflight({ build });
  const stack = new ComposeStack(toolchain, { file, project });
  const config = await stack.config();
  const services = Object.keys(config.services ?? {});
  if (services.length === 0) fail(`${relative(file)} defines no services`);
  const buildable = buildableServices(config);
  const secretProblems = secretFileProblems(config);
  if (secretProblems.length) {
    for (const problem of secretProblems) warn(problem);
    fail(`${secretProblems.length} secret file problem${secretProblems.length > 1 ? 's' : ''} above`, 1);
  }

  if (build) {
    if (buildable.length) {
      const result = await buildImages(stack, buildable, { log: say });
      if (result.exitCode !== 0) fail(`building the images failed at '${result.step}' (exit ${result.exitCode}); its output is above`, 1);
    } else say('no images to build here (IMAGE_PREFIX/IMAGE_TAG point at images this workspace does not build): compose pulls missing ones');
  } else {
    for (const service of buildable) {
      const image = config.services[service].image;
      if (!(await stack.hasImage(image))) fail(`image ${image} is missing: run without --no-build, or build it with 'npx nx run ${service}:docker-build'`, 1);
    }
  }

  say(`starting ${project} from ${relative(file)}: ${services.join(', ')}`);
  const started = await stack.compose(['up', '--detach', '--remove-orphans']);
  if (started.exitCode !== 0) {
    if (/port is already allocated|address already in use/i.test(started.output))
      warn(
        `a host port is taken: stop what uses it, or pick other ports, e.g. ${listServices()
          .map((s) => `${portVariable(s.name)}=${s.port + 10000}`)
          .join(' ')}`,
      );
    const containers = await stack.containers();
    const verdicts = Object.fromEntries(services.map((s) => [s, verdict(s, containers)]));
    const details = await diagnose(stack, services, verdicts);
    if (details) console.error(details);
    fail(`compose up failed (exit ${started.exitCode}); see above. Clean up with: node tools/stack.mjs down${stackFlags(file, project)}`, 1);
  }

  say(`waiting up to ${Math.round(timeoutMs / 1000)} s for every container to turn healthy`);
  const result = await waitHealthy(stack, services, { timeoutMs, onProgress: (line) => say(`  ${line}`) });
  if (!result.ok) {
    console.error(await diagnose(stack, services, result.verdicts));
    fail(`${result.reason}. The stack is left running for inspection; remove it with: node tools/stack.mjs down${stackFlags(file, project)}`, 1);
  }

  say(`${project} is up, every service healthy:`);
  for (const service of services) {
    const url = serviceUrl(result.verdicts[service].container);
    console.log(`  ${service.padEnd(14)} ${url ?? '(no published port)'}`);
    if (url) console.log(`    try: ${sampleCurl(service, url, apiKeyFile(config, service))}`);
  }
  console.log(
    `  stop it with: ${file === path.join(workspaceRoot, 'compose.yaml') && project === COMPOSE_PROJECT ? 'npm stop' : `node tools/stack.mjs down${stackFlags(file, project)}`}`,
  );
}

function stackFlags(file, project) {
  const flags = [];
  if (file !== path.join(workspaceRoot, 'compose.yaml')) flags.push(`--file ${relative(file)}`);
  if (project !== COMPOSE_PROJECT) flags.push(`--project ${project}`);
  return flags.length ? ` ${flags.join(' ')}` : '';
}

async function down({ file, project }) {
  const toolchain = await preflight({ build: false });
  const stack = new ComposeStack(toolchain, { file, project });
  const result = await stack.compose(['down', '--remove-orphans', '--volumes']);
  if (result.exitCode !== 0) fail(`compose down failed (exit ${result.exitCode}); see above`, 1);
  const left = await stack.leftovers();
  const remaining = Object.entries(left).filter(([, names]) => names.length);
  if (remaining.length)
    fail(`still left with label com.docker.compose.project=${project}: ${remaining.map(([kind, names]) => `${kind} ${names.join(' ')}`).join('; ')}`, 1);
  say(`${project} is down: no containers, networks or volumes left`);
}

async function status({ file, project }) {
  const toolchain = await preflight({ build: false });
  const stack = new ComposeStack(toolchain, { file, project });
  const config = await stack.config();
  const services = Object.keys(config.services ?? {});
  const containers = await stack.containers();
  if (containers.length === 0) {
    say(`${project} is not running (start it with: node tools/stack.mjs up${stackFlags(file, project)})`);
    process.exitCode = 1;
    return;
  }
  let healthy = true;
  for (const service of services) {
    const v = verdict(service, containers);
    if (v.state !== 'healthy') healthy = false;
    console.log(`  ${service.padEnd(14)} ${v.detail.padEnd(24)} ${serviceUrl(v.container) ?? ''}`);
  }
  if (!healthy) process.exitCode = 1;
}

if (isMain(import.meta.url)) {
  runMain(async () => {
    const options = parseStackArgs(process.argv.slice(2));
    if (options.help) return console.log(USAGE);
    await { up, down, status }[options.command](options);
  }, 'stack');
}
