// A small GitHub Actions job runner for rehearsals: runs a workflow job's `run:` steps in order with a GitHub-like
// environment (event payload file, GITHUB_OUTPUT / GITHUB_ENV / GITHUB_PATH / GITHUB_STEP_SUMMARY files, GITHUB_*
// variables), evaluates the expressions the workflows use (`${{ }}` in env/with/if/outputs/matrix, job `if`, status
// functions, fromJSON ...) and replaces each `uses:` step with a substitute the caller supplies. Anything it cannot
// rehearse faithfully (an action without a substitute, an unknown function, another shell) is an error, not a skip.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';

export class RehearsalError extends Error {}

// ---------------------------------------------------------------------------------------------------------------
// Expressions (https://docs.github.com/en/actions/reference/evaluate-expressions-in-workflows-and-actions)

const TOKEN = /\s*(?:(?<num>0x[0-9a-fA-F]+|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|(?<str>'(?:[^']|'')*')|(?<ident>[A-Za-z_][A-Za-z0-9_-]*)|(?<op>==|!=|<=|>=|&&|\|\||[!<>.[\](),*]))/y;

function tokenize(source) {
  const tokens = [];
  TOKEN.lastIndex = 0;
  let at = 0;
  while (at < source.length) {
    if (/^\s*$/.test(source.slice(at))) break;
    TOKEN.lastIndex = at;
    const match = TOKEN.exec(source);
    if (!match) throw new RehearsalError(`cannot parse expression at '${source.slice(at, at + 20)}' in: ${source}`);
    at = TOKEN.lastIndex;
    const { num, str, ident, op } = match.groups;
    if (num !== undefined) tokens.push({ type: 'literal', value: Number(num) });
    else if (str !== undefined) tokens.push({ type: 'literal', value: str.slice(1, -1).replace(/''/g, "'") });
    else if (ident !== undefined) {
      if (ident === 'true' || ident === 'false') tokens.push({ type: 'literal', value: ident === 'true' });
      else if (ident === 'null') tokens.push({ type: 'literal', value: null });
      else tokens.push({ type: 'ident', value: ident });
    } else tokens.push({ type: 'op', value: op });
  }
  return tokens;
}

function parse(source) {
  const tokens = tokenize(source);
  let i = 0;
  const peek = (value) => tokens[i]?.type === 'op' && tokens[i].value === value;
  const expect = (value) => {
    if (!peek(value)) throw new RehearsalError(`expected '${value}' in expression: ${source}`);
    i++;
  };
  const binary = (next, ops) => () => {
    let left = next();
    while (tokens[i]?.type === 'op' && ops.includes(tokens[i].value)) {
      const op = tokens[i++].value;
      left = { kind: 'binary', op, left, right: next() };
    }
    return left;
  };
  const primary = () => {
    const token = tokens[i++];
    if (!token) throw new RehearsalError(`unexpected end of expression: ${source}`);
    if (token.type === 'literal') return { kind: 'literal', value: token.value };
    if (token.type === 'op' && token.value === '(') {
      const inner = or();
      expect(')');
      return inner;
    }
    if (token.type === 'ident') {
      if (peek('(')) {
        i++;
        const args = [];
        if (!peek(')')) {
          args.push(or());
          while (peek(',')) {
            i++;
            args.push(or());
          }
        }
        expect(')');
        return { kind: 'call', name: token.value, args };
      }
      return { kind: 'context', name: token.value };
    }
    throw new RehearsalError(`unexpected '${token.value}' in expression: ${source}`);
  };
  const postfix = () => {
    let node = primary();
    for (;;) {
      if (peek('.')) {
        i++;
        const name = tokens[i++];
        if (name?.type === 'op' && name.value === '*') node = { kind: 'star', target: node };
        else if (name?.type === 'ident' || (name?.type === 'literal' && typeof name.value !== 'string')) node = { kind: 'member', target: node, key: { kind: 'literal', value: String(name.value) } };
        else throw new RehearsalError(`expected a property name in expression: ${source}`);
      } else if (peek('[')) {
        i++;
        const key = or();
        expect(']');
        node = { kind: 'member', target: node, key };
      } else return node;
    }
  };
  const unary = () => {
    if (peek('!')) {
      i++;
      return { kind: 'not', operand: unary() };
    }
    return postfix();
  };
  const comparison = binary(unary, ['==', '!=', '<', '<=', '>', '>=']);
  const and = binary(comparison, ['&&']);
  const or = binary(and, ['||']);
  const tree = or();
  if (i !== tokens.length) throw new RehearsalError(`unexpected '${tokens[i].value}' in expression: ${source}`);
  return tree;
}

const truthy = (value) => !(value === null || value === undefined || value === false || value === 0 || value === '' || Number.isNaN(value));

function toNumber(value) {
  if (value === null || value === undefined) return 0;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number') return value;
  if (typeof value === 'string') return value.trim() === '' ? 0 : Number(value);
  return Number.NaN;
}

function looseEquals(a, b) {
  a ??= null;
  b ??= null;
  if (typeof a === 'string' && typeof b === 'string') return a.toLowerCase() === b.toLowerCase();
  if (typeof a === typeof b && (typeof a !== 'object' || a === null || b === null)) return a === b;
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) return a === b;
  return toNumber(a) === toNumber(b);
}

function compare(op, a, b) {
  if (op === '==') return looseEquals(a, b);
  if (op === '!=') return !looseEquals(a, b);
  const [x, y] = typeof a === 'string' && typeof b === 'string' ? [a.toLowerCase(), b.toLowerCase()] : [toNumber(a), toNumber(b)];
  if (op === '<') return x < y;
  if (op === '<=') return x <= y;
  if (op === '>') return x > y;
  return x >= y;
}

/** Property access is case-insensitive, like GitHub's. */
function member(target, key) {
  if (target === null || target === undefined || typeof target !== 'object') return null;
  if (Array.isArray(target) && typeof key === 'number') return target[key] ?? null;
  const name = String(key);
  if (Object.hasOwn(target, name)) return target[name] ?? null;
  const found = Object.keys(target).find((k) => k.toLowerCase() === name.toLowerCase());
  return found === undefined ? null : (target[found] ?? null);
}

/** Converts an expression result to the string GitHub substitutes into a template. */
export function toExpressionString(value) {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value, null, 2);
}

const STATUS_FUNCTIONS = ['success', 'always', 'failure', 'cancelled'];

const FUNCTIONS = {
  contains: (haystack, needle) =>
    Array.isArray(haystack) ? haystack.some((item) => looseEquals(item, needle)) : toExpressionString(haystack).toLowerCase().includes(toExpressionString(needle).toLowerCase()),
  startsWith: (text, prefix) => toExpressionString(text).toLowerCase().startsWith(toExpressionString(prefix).toLowerCase()),
  endsWith: (text, suffix) => toExpressionString(text).toLowerCase().endsWith(toExpressionString(suffix).toLowerCase()),
  format: (template, ...args) =>
    toExpressionString(template).replace(/\{\{|\}\}|\{(\d+)\}/g, (token, n) => (token === '{{' ? '{' : token === '}}' ? '}' : toExpressionString(args[Number(n)]))),
  join: (items, separator = ',') => (Array.isArray(items) ? items.map(toExpressionString).join(toExpressionString(separator)) : toExpressionString(items)),
  toJSON: (value) => JSON.stringify(value ?? null, null, 2),
  fromJSON: (text) => {
    try {
      return JSON.parse(toExpressionString(text));
    } catch {
      throw new RehearsalError(`fromJSON: not JSON: ${toExpressionString(text).slice(0, 80)}`);
    }
  },
};

function evaluateNode(node, context) {
  switch (node.kind) {
    case 'literal':
      return node.value;
    case 'context': {
      const value = member(context, node.name);
      if (value === null && !Object.keys(context).some((k) => k.toLowerCase() === node.name.toLowerCase())) {
        throw new RehearsalError(`unknown context '${node.name}'`);
      }
      return value;
    }
    case 'member':
      return member(evaluateNode(node.target, context), evaluateNode(node.key, context));
    case 'star': {
      const target = evaluateNode(node.target, context);
      return target && typeof target === 'object' ? Object.values(target) : [];
    }
    case 'not':
      return !truthy(evaluateNode(node.operand, context));
    case 'binary': {
      if (node.op === '&&') {
        const left = evaluateNode(node.left, context);
        return truthy(left) ? evaluateNode(node.right, context) : left;
      }
      if (node.op === '||') {
        const left = evaluateNode(node.left, context);
        return truthy(left) ? left : evaluateNode(node.right, context);
      }
      return compare(node.op, evaluateNode(node.left, context), evaluateNode(node.right, context));
    }
    case 'call': {
      if (STATUS_FUNCTIONS.includes(node.name)) {
        const status = context.__status ?? { failed: false, cancelled: false, skipped: false };
        if (node.name === 'always') return true;
        if (node.name === 'cancelled') return status.cancelled;
        if (node.name === 'failure') return status.failed;
        return !status.failed && !status.cancelled && !status.skipped;
      }
      const fn = Object.entries(FUNCTIONS).find(([name]) => name.toLowerCase() === node.name.toLowerCase())?.[1];
      if (!fn) throw new RehearsalError(`the rehearsal does not implement the function ${node.name}()`);
      return fn(...node.args.map((arg) => evaluateNode(arg, context)));
    }
    default:
      throw new RehearsalError(`bad expression node ${node.kind}`);
  }
}

/** Evaluates the inside of `${{ }}`. */
export function evaluate(expression, context) {
  return evaluateNode(parse(expression), context);
}

const TEMPLATE = /\$\{\{([\s\S]*?)\}\}/g;

/** Renders every `${{ }}` in a string (a whole-string expression keeps its type, like GitHub). */
export function render(value, context) {
  if (typeof value !== 'string') return value;
  const whole = /^\s*\$\{\{([\s\S]*?)\}\}\s*$/.exec(value);
  if (whole && !whole[1].includes('}}')) return evaluate(whole[1], context);
  return value.replace(TEMPLATE, (_, expression) => toExpressionString(evaluate(expression, context)));
}

/** Renders every value of a map to strings (env, with). */
export function renderMap(map, context) {
  const out = {};
  for (const [key, value] of Object.entries(map ?? {})) out[key] = toExpressionString(render(typeof value === 'string' ? value : toExpressionString(value), context));
  return out;
}

/** A step's or job's `if:`; without a status function it means `success() && (...)`. */
export function evaluateIf(condition, context) {
  if (condition === undefined || condition === null || condition === '') return truthy(evaluate('success()', context));
  if (typeof condition === 'boolean') return condition && truthy(evaluate('success()', context));
  let expression = String(condition).trim();
  const whole = /^\$\{\{([\s\S]*)\}\}$/.exec(expression);
  if (whole) expression = whole[1];
  const usesStatus = new RegExp(`\\b(${STATUS_FUNCTIONS.join('|')})\\s*\\(`).test(expression);
  return truthy(evaluate(usesStatus ? expression : `success() && (${expression})`, context));
}

// ---------------------------------------------------------------------------------------------------------------
// File commands and workflow commands

/** Parses a GITHUB_OUTPUT / GITHUB_ENV file: `name=value` lines and `name<<DELIM ... DELIM` blocks. */
export function parseFileCommands(text) {
  const values = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].replace(/\r$/, '');
    if (!line) continue;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    const eq = line.indexOf('=');
    if (heredoc && (eq === -1 || eq > line.indexOf('<<'))) {
      const [, name, delimiter] = heredoc;
      const body = [];
      for (i++; i < lines.length && lines[i].replace(/\r$/, '') !== delimiter; i++) body.push(lines[i]);
      if (i >= lines.length) throw new RehearsalError(`file command for '${name}': delimiter ${delimiter} never closes`);
      values[name] = body.join('\n');
    } else if (eq > 0) {
      values[line.slice(0, eq)] = line.slice(eq + 1);
    } else {
      throw new RehearsalError(`invalid file command line: ${line}`);
    }
  }
  return values;
}

/** `::notice title=T::message` style annotations in a step's output. */
export function parseAnnotations(text) {
  const annotations = [];
  for (const [, level, params, message] of text.matchAll(/^::(notice|warning|error)(?: ([^:]*))?::(.*)$/gm)) {
    const title = /(?:^|,)title=([^,]*)/.exec(params ?? '')?.[1];
    annotations.push({ level, title, message });
  }
  return annotations;
}

// ---------------------------------------------------------------------------------------------------------------
// Jobs

export function loadWorkflow(file) {
  const workflow = YAML.parse(readFileSync(file, 'utf8'));
  if (!workflow?.jobs) throw new RehearsalError(`${file} has no jobs`);
  return workflow;
}

/** The `github` context and the GITHUB_* variables a runner sets, from a few facts and the event payload. */
export function githubContext({ eventName, payload, repository, sha, ref, workspace, workflow = 'rehearsal', workflowFile = '.github/workflows/rehearsal.yml', actor = 'rehearsal', runId = '1' }) {
  const refName = ref.replace(/^refs\/(heads|tags)\//, '').replace(/^refs\//, '');
  return {
    event_name: eventName,
    event: payload,
    repository,
    repository_owner: repository.split('/')[0],
    sha,
    ref,
    ref_name: refName,
    ref_type: ref.startsWith('refs/tags/') ? 'tag' : 'branch',
    head_ref: eventName.startsWith('pull_request') ? (payload.pull_request?.head?.ref ?? '') : '',
    base_ref: eventName.startsWith('pull_request') ? (payload.pull_request?.base?.ref ?? '') : '',
    actor,
    triggering_actor: actor,
    workflow,
    workflow_ref: `${repository}/${workflowFile}@${ref}`,
    run_id: runId,
    run_number: '1',
    run_attempt: '1',
    server_url: 'https://github.com',
    api_url: 'https://api.github.com',
    graphql_url: 'https://api.github.com/graphql',
    workspace,
    token: '',
  };
}

function runnerVariables(github, jobId, eventPath, runnerTemp) {
  return {
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_EVENT_NAME: github.event_name,
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_REPOSITORY: github.repository,
    GITHUB_REPOSITORY_OWNER: github.repository_owner,
    GITHUB_SHA: github.sha,
    GITHUB_REF: github.ref,
    GITHUB_REF_NAME: github.ref_name,
    GITHUB_REF_TYPE: github.ref_type,
    GITHUB_HEAD_REF: github.head_ref,
    GITHUB_BASE_REF: github.base_ref,
    GITHUB_ACTOR: github.actor,
    GITHUB_TRIGGERING_ACTOR: github.triggering_actor,
    GITHUB_WORKFLOW: github.workflow,
    GITHUB_WORKFLOW_REF: github.workflow_ref,
    GITHUB_RUN_ID: github.run_id,
    GITHUB_RUN_NUMBER: github.run_number,
    GITHUB_RUN_ATTEMPT: github.run_attempt,
    GITHUB_JOB: jobId,
    GITHUB_SERVER_URL: github.server_url,
    GITHUB_API_URL: github.api_url,
    GITHUB_GRAPHQL_URL: github.graphql_url,
    GITHUB_WORKSPACE: github.workspace,
    RUNNER_OS: 'Linux',
    RUNNER_ARCH: 'X64',
    RUNNER_NAME: 'rehearsal',
    RUNNER_TEMP: runnerTemp,
    RUNNER_TOOL_CACHE: path.join(runnerTemp, 'toolcache'),
  };
}

/** Combinations of a (rendered) strategy.matrix: axes, exclude, include as GitHub documents them. */
export function expandMatrix(matrix) {
  if (!matrix) return [null];
  if (typeof matrix !== 'object' || Array.isArray(matrix)) throw new RehearsalError('strategy.matrix must evaluate to an object');
  const { include = [], exclude = [], ...axes } = matrix;
  let combos = [{}];
  for (const [key, values] of Object.entries(axes)) {
    if (!Array.isArray(values)) throw new RehearsalError(`matrix axis ${key} is not a list`);
    combos = combos.flatMap((combo) => values.map((value) => ({ ...combo, [key]: value })));
  }
  if (!Object.keys(axes).length) combos = [];
  combos = combos.filter((combo) => !exclude.some((ex) => Object.entries(ex).every(([k, v]) => looseEquals(combo[k], v))));
  const originals = combos.map((combo) => ({ ...combo }));
  for (const entry of include) {
    const matching = originals
      .map((original, index) => (Object.entries(entry).every(([k, v]) => !(k in axes) || looseEquals(original[k], v)) ? index : -1))
      .filter((index) => index !== -1);
    if (matching.length && Object.keys(entry).some((k) => k in axes)) for (const index of matching) Object.assign(combos[index], entry);
    else combos.push({ ...entry });
  }
  if (!combos.length) throw new RehearsalError('the matrix has no combinations (GitHub fails such a job)');
  return combos;
}

function runProcess(command, args, { cwd, env, onOutput, timeoutMs }) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (chunk) => {
      output += chunk;
      onOutput?.(String(chunk));
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const timer = timeoutMs ? setTimeout(() => child.kill('SIGTERM'), timeoutMs) : null;
    child.on('error', (error) => {
      output += `${error.message}\n`;
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ exitCode: code ?? (signal ? 128 : 1), output });
    });
  });
}

const SHELLS = {
  bash: (file) => ['bash', ['--noprofile', '--norc', '-eo', 'pipefail', file]],
  sh: (file) => ['sh', ['-e', file]],
};

/**
 * Runs one job (one matrix combination) of a parsed workflow.
 * @param {object} options
 * @param {object} options.workflow   parsed workflow (loadWorkflow)
 * @param {string} options.jobId
 * @param {object} options.github     githubContext(...)
 * @param {string} options.eventPath  the event payload file
 * @param {Record<string,string>} options.baseEnv  the runner machine's environment (PATH, HOME, ...)
 * @param {Record<string,string>} [options.workflowEnv]  values that replace the workflow's top-level env (e.g. REGISTRY)
 * @param {Record<string,string>} [options.secrets]
 * @param {object} [options.needs]    { jobId: { result, outputs } }
 * @param {object|null} [options.matrix]
 * @param {Record<string, Function>} options.uses  substitutes by action (owner/repo[/path], without @ref)
 * @param {{match: RegExp, reason: string}[]} [options.skipRuns]  run scripts the rehearsal does not execute
 * @param {boolean} [options.dryRun]  evaluate conditions only; every step that would run counts as successful
 * @param {(text: string) => void} [options.log]
 */
export async function runJob(options) {
  const { workflow, jobId } = options;
  const job = workflow.jobs[jobId];
  if (!job) throw new RehearsalError(`no job '${jobId}' in the workflow`);
  if (job.uses) throw new RehearsalError(`job '${jobId}' calls a reusable workflow; not rehearsable`);
  const runnerTemp = mkdtempSync(path.join(os.tmpdir(), `rehearsal-${jobId}-`));
  try {
    return await runSteps({ ...options, job, runnerTemp });
  } finally {
    rmSync(runnerTemp, { recursive: true, force: true });
  }
}

async function runSteps(options) {
  const { workflow, jobId, job, runnerTemp, github, eventPath, baseEnv, secrets = {}, needs = {}, matrix = null, uses = {}, skipRuns = [], dryRun = false, log = () => {} } = options;
  const commandDir = path.join(runnerTemp, '_runner_file_commands');
  mkdirSync(commandDir, { recursive: true });
  const secretsContext = { GITHUB_TOKEN: '', ...secrets };
  const base = { github, secrets: secretsContext, inputs: {}, vars: {} };
  const workflowEnv = { ...renderMap(workflow.env, { ...base, env: {} }), ...(options.workflowEnv ?? {}) };
  const strategy = { 'fail-fast': job.strategy?.['fail-fast'] ?? true, 'job-index': 0, 'job-total': 1 };
  const jobContext = { ...base, needs, matrix: matrix ?? {}, strategy, env: workflowEnv };
  const jobEnv = { ...workflowEnv, ...renderMap(job.env, jobContext) };
  const defaults = { ...(workflow.defaults?.run ?? {}), ...(job.defaults?.run ?? {}) };
  const runner = { os: 'Linux', arch: 'X64', name: 'rehearsal', temp: runnerTemp, tool_cache: path.join(runnerTemp, 'toolcache') };
  const steps = {};
  const results = [];
  const addedEnv = {};
  let addedPath = [];
  let summary = '';
  const status = { failed: false, cancelled: false };
  const jobTimeoutMs = (job['timeout-minutes'] ?? 360) * 60_000;

  for (const [index, step] of (job.steps ?? []).entries()) {
    const id = step.id ?? `__step_${index}`;
    const name = step.name ?? step.uses ?? String(step.run).split('\n')[0];
    const stepEnvContext = { ...jobContext, env: { ...jobEnv, ...addedEnv }, steps, runner, job: { status: status.failed ? 'failure' : 'success' }, __status: status };
    const runIt = evaluateIf(step.if, stepEnvContext);
    if (!runIt) {
      steps[id] = { outputs: {}, outcome: 'skipped', conclusion: 'skipped' };
      results.push({ id, name, kind: step.uses ? 'uses' : 'run', ran: false, outcome: 'skipped', output: '' });
      log(`\n--- skipped: ${name}\n`);
      continue;
    }
    const stepEnv = { ...jobEnv, ...addedEnv, ...renderMap(step.env, stepEnvContext) };
    const files = {
      output: path.join(commandDir, `set_output_${index}`),
      env: path.join(commandDir, `set_env_${index}`),
      path: path.join(commandDir, `add_path_${index}`),
      summary: path.join(commandDir, `step_summary_${index}`),
    };
    for (const file of Object.values(files)) writeFileSync(file, '');
    const processEnv = {
      ...baseEnv,
      ...stepEnv,
      ...runnerVariables(github, jobId, eventPath, runnerTemp),
      GITHUB_ACTION: id,
      GITHUB_OUTPUT: files.output,
      GITHUB_ENV: files.env,
      GITHUB_PATH: files.path,
      GITHUB_STEP_SUMMARY: files.summary,
    };
    if (addedPath.length) processEnv.PATH = [...addedPath, baseEnv.PATH ?? ''].join(':');
    const cwd = path.resolve(github.workspace, render(step['working-directory'] ?? defaults['working-directory'] ?? '.', stepEnvContext) ?? '.');
    const timeoutMs = Math.min(jobTimeoutMs, (step['timeout-minutes'] ?? 360) * 60_000);
    let exitCode = 0;
    let output = '';
    let kind;
    let note;
    log(`\n--- ${name}\n`);
    if (step.run !== undefined) {
      kind = 'run';
      const script = toExpressionString(render(String(step.run), stepEnvContext));
      const skip = skipRuns.find((rule) => rule.match.test(script.trim()));
      if (skip) note = `not executed in the rehearsal: ${skip.reason}`;
      else if (!dryRun) {
        const shellName = step.shell ?? defaults.shell ?? 'bash';
        if (!SHELLS[shellName]) throw new RehearsalError(`step '${name}': shell '${shellName}' is not rehearsable`);
        const scriptFile = path.join(runnerTemp, `step_${index}.sh`);
        writeFileSync(scriptFile, script);
        const [command, args] = SHELLS[shellName](scriptFile);
        ({ exitCode, output } = await runProcess(command, args, { cwd, env: processEnv, onOutput: log, timeoutMs }));
      }
    } else if (step.uses) {
      kind = 'uses';
      const action = step.uses.replace(/@.*$/, '');
      const substitute = uses[action];
      if (!substitute) throw new RehearsalError(`no rehearsal substitute for uses: ${step.uses}`);
      if (!dryRun) {
        const inputs = renderMap(step.with, stepEnvContext);
        const exec = (command, args) => runProcess(command, args, { cwd, env: processEnv, onOutput: log, timeoutMs });
        const result = (await substitute({ with: inputs, env: processEnv, files, cwd, matrix, github, exec, log })) ?? {};
        exitCode = result.exitCode ?? 0;
        output = result.output ?? '';
        note = result.note;
      }
    } else throw new RehearsalError(`step '${name}' has neither run nor uses`);
    if (note) log(`(${note})\n`);

    const outputs = parseFileCommands(readFileSync(files.output, 'utf8'));
    Object.assign(addedEnv, parseFileCommands(readFileSync(files.env, 'utf8')));
    addedPath = [...readFileSync(files.path, 'utf8').split('\n').filter(Boolean).reverse(), ...addedPath];
    summary += readFileSync(files.summary, 'utf8');
    const outcome = exitCode === 0 ? 'success' : 'failure';
    const conclusion = outcome === 'failure' && step['continue-on-error'] === true ? 'success' : outcome;
    if (conclusion === 'failure') status.failed = true;
    steps[id] = { outputs, outcome, conclusion };
    results.push({ id, name, kind, uses: step.uses, ran: true, outcome, exitCode, output, outputs, note, annotations: parseAnnotations(output) });
  }

  const outputsContext = { ...jobContext, env: { ...jobEnv, ...addedEnv }, steps, runner };
  const jobOutputs = status.failed ? {} : renderMap(job.outputs, outputsContext);
  return { jobId, matrix, result: status.failed ? 'failure' : 'success', steps: results, outputs: jobOutputs, summary, env: addedEnv };
}

/**
 * Runs jobs of a workflow in the given order (each after the jobs it needs), expanding matrices and honouring job
 * `if:`. Returns { [jobId]: { result, outputs, runs: [runJob results] } }.
 */
export async function runJobs(options) {
  const { github, payload } = options;
  const eventDir = mkdtempSync(path.join(os.tmpdir(), 'rehearsal-event-'));
  try {
    const eventPath = options.eventPath ?? path.join(eventDir, 'event.json');
    if (!options.eventPath) writeFileSync(eventPath, JSON.stringify(payload ?? github.event, null, 2));
    return await runJobsIn({ ...options, eventPath });
  } finally {
    rmSync(eventDir, { recursive: true, force: true });
  }
}

async function runJobsIn(options) {
  const { workflow, jobs, github, eventPath } = options;
  const done = {};
  for (const jobId of jobs) {
    const job = workflow.jobs[jobId];
    if (!job) throw new RehearsalError(`no job '${jobId}' in the workflow`);
    const needIds = [job.needs ?? []].flat();
    for (const need of needIds) if (!done[need]) throw new RehearsalError(`job '${jobId}' needs '${need}', which was not run before it`);
    const needs = Object.fromEntries(needIds.map((need) => [need, { result: done[need].result, outputs: done[need].outputs }]));
    // success() of a job means every job it needs succeeded (a skipped need makes it false as well).
    const status = { failed: needIds.some((need) => done[need].result === 'failure'), cancelled: false, skipped: needIds.some((need) => done[need].result === 'skipped') };
    const context = { github, needs, secrets: {}, vars: {}, inputs: {}, __status: status };
    if (!evaluateIf(job.if, context)) {
      done[jobId] = { result: 'skipped', outputs: {}, runs: [] };
      continue;
    }
    const matrixValue = job.strategy?.matrix === undefined ? undefined : render(job.strategy.matrix, context);
    const combos = matrixValue === undefined ? [null] : expandMatrix(typeof matrixValue === 'string' ? JSON.parse(matrixValue) : matrixValue);
    const runs = [];
    for (const matrix of combos) runs.push(await runJob({ ...options, jobId, needs, matrix, eventPath }));
    const outputs = Object.assign({}, ...runs.map((run) => run.outputs));
    done[jobId] = { result: runs.every((run) => run.result === 'success') ? 'success' : 'failure', outputs, runs };
  }
  return done;
}
