// A small GitHub Actions job runner for rehearsals: runs a workflow job's `run:` steps in order with a GitHub-like
// environment (event payload file, GITHUB_OUTPUT / GITHUB_ENV / GITHUB_PATH / GITHUB_STEP_SUMMARY files, GITHUB_*
// variables), evaluates the expressions the workflows use (`${{ }}` in env/with/if/outputs/matrix, job `if`, status
// functions, fromJSON ...) and replaces each `uses:` step with a substitute the caller supplies. Anything it cannot
// rehearse faithfully (an action without a substitute, an unknown function, another shell) is an error, not a skip.
// A job that calls a local reusable workflow (`uses: ./.github/workflows/x.yml`) runs the called workflow's jobs as
// GitHub documents workflow_call: the `github` context stays the caller's (GITHUB_WORKFLOW_REF names the caller),
// `inputs` are the caller's `with:` over the declared defaults, `secrets` are only those passed by name (or all with
// `inherit`), and the called workflow's own ref, the OIDC claim job_workflow_ref that Fulcio writes into a keyless
// certificate, is separate: <owner>/<repo>/<called file>@<caller's ref> (a local call runs the caller's commit).
import { data, Evaluator, Lexer, Parser } from '@actions/expressions';
import { TokenType } from '@actions/expressions/lexer';
import { equals, truthy } from '@actions/expressions/result';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { $, streamLines } from '../../lib/process.mjs';

export class RehearsalError extends Error {}

// ---------------------------------------------------------------------------------------------------------------
// Expressions (https://docs.github.com/en/actions/reference/evaluate-expressions-in-workflows-and-actions)
// Lexing, parsing, coercion and the built-in functions are GitHub's own (@actions/expressions). What is ours: turning
// the plain-object contexts into its data types and back, the status functions of `if:`, the implicit `success() &&`,
// and splitting templates into literal text and `${{ }}` expressions.

/** Functions a real runner knows beyond the built-in ones. Status functions are allowed only in `if:`, as on GitHub. */
const STATUS_FUNCTIONS = ['success', 'always', 'failure', 'cancelled'];
const HASH_FILES = {
  name: 'hashFiles',
  minArgs: 1,
  maxArgs: 255,
  call: () => {
    throw new RehearsalError('the rehearsal does not implement the function hashFiles()');
  },
};

/** By lower-case name, as the evaluator looks them up; the parser takes the same objects as its extension functions. */
function extensionFunctions(status) {
  const functions = new Map([['hashfiles', HASH_FILES]]);
  if (status === undefined) return functions;
  const { failed = false, cancelled = false, skipped = false } = status ?? {};
  const results = { success: !failed && !cancelled && !skipped, always: true, failure: Boolean(failed), cancelled: Boolean(cancelled) };
  for (const name of STATUS_FUNCTIONS) functions.set(name, { name, minArgs: 0, maxArgs: 0, call: () => new data.BooleanData(results[name]) });
  return functions;
}

function lex(expression) {
  const { tokens } = new Lexer(expression).lex();
  // @actions/expressions 0.3.61 unescapes only the first '' of a string literal; GitHub's runner unescapes them all.
  for (const token of tokens) if (token.type === TokenType.STRING) token.value = token.lexeme.slice(1, -1).replaceAll("''", "'");
  return tokens;
}

/** One line naming the expression (the lexer's own messages already quote it). */
const expressionError = (error, expression) =>
  new RehearsalError(error.message.includes(expression) ? error.message : `${error.message} in the expression: ${expression.trim()}`, { cause: error });

function toData(value) {
  if (value === null || value === undefined) return new data.Null();
  if (typeof value === 'string') return new data.StringData(value);
  if (typeof value === 'number') return new data.NumberData(value);
  if (typeof value === 'boolean') return new data.BooleanData(value);
  if (Array.isArray(value)) return new data.Array(...value.map(toData));
  if (typeof value === 'object') return new data.Dictionary(...Object.entries(value).map(([key, item]) => ({ key, value: toData(item) })));
  throw new RehearsalError(`a ${typeof value} cannot be an expression value`);
}

function fromData(value) {
  if (value.kind === data.Kind.Null) return null;
  if (value.kind === data.Kind.Array) return value.values().map(fromData);
  if (value.kind === data.Kind.Dictionary) return Object.fromEntries(value.pairs().map((pair) => [pair.key, fromData(pair.value)]));
  return value.value;
}

/**
 * Evaluates the inside of `${{ }}` to @actions/expressions data. The contexts are the keys of `context` (so an unknown
 * one is an error, as on GitHub); `context.__status` ({failed, cancelled, skipped}) is the job's state for the status
 * functions, which exist only when `status` is passed.
 */
function evaluateData(expression, context, { status } = {}) {
  const contexts = Object.keys(context).filter((name) => name !== '__status');
  const functions = extensionFunctions(status);
  try {
    const tree = new Parser(lex(expression), contexts, [...functions.values()]).parse();
    if (!tree) throw new RehearsalError('empty expression');
    const values = new data.Dictionary(...contexts.map((name) => ({ key: name, value: toData(context[name]) })));
    return new Evaluator(tree, values, functions).evaluate();
  } catch (error) {
    if (error instanceof RehearsalError) throw error;
    throw expressionError(error, expression);
  }
}

/** Converts an expression result to the string GitHub substitutes into a template. */
export function toExpressionString(value) {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return new data.NumberData(value).coerceString();
  if (typeof value === 'boolean') return String(value);
  return JSON.stringify(value, null, 2);
}

/** Evaluates the inside of `${{ }}` (status functions are for evaluateIf only). */
export function evaluate(expression, context) {
  return fromData(evaluateData(expression, context));
}

/** Literal text and `${{ }}` expressions of a template; like GitHub's reader, a `}}` inside a 'string' does not close. */
function templateSegments(text) {
  const segments = [];
  let at = 0;
  for (let start = text.indexOf('${{'); start !== -1; start = text.indexOf('${{', at)) {
    let end = -1;
    let quoted = false;
    for (let i = start + 3; i < text.length - 1 && end === -1; i++) {
      if (text[i] === "'") quoted = !quoted;
      else if (!quoted && text[i] === '}' && text[i + 1] === '}') end = i;
    }
    if (end === -1) throw new RehearsalError(`an expression is not closed ('\${{' without '}}') in: ${text}`);
    if (start > at) segments.push({ text: text.slice(at, start) });
    segments.push({ expression: text.slice(start + 3, end) });
    at = end + 2;
  }
  if (at < text.length) segments.push({ text: text.slice(at) });
  return segments;
}

/** Renders every `${{ }}` in a string (a whole-string expression keeps its type, like GitHub). */
export function render(value, context) {
  if (typeof value !== 'string') return value;
  const segments = templateSegments(value);
  if (segments.length === 1 && segments[0].expression !== undefined) return evaluate(segments[0].expression, context);
  // GitHub evaluates text around expressions as format(): each result is coerced to its string (an object is 'Object').
  return segments.map((segment) => segment.text ?? evaluateData(segment.expression, context).coerceString()).join('');
}

/** Renders every value of a map to strings (env, with). */
export function renderMap(map, context) {
  const out = {};
  for (const [key, value] of Object.entries(map ?? {}))
    out[key] = toExpressionString(render(typeof value === 'string' ? value : toExpressionString(value), context));
  return out;
}

/** A step's or job's `if:`; without a status function it means `success() && (...)`. */
export function evaluateIf(condition, context) {
  let expression = condition === undefined || condition === null || condition === '' ? 'success()' : String(condition).trim();
  const segments = templateSegments(expression);
  if (segments.length === 1 && segments[0].expression !== undefined) expression = segments[0].expression;
  let tokens;
  try {
    tokens = lex(expression);
  } catch (error) {
    throw expressionError(error, expression);
  }
  const usesStatus = tokens.some(
    (token, i) => token.type === TokenType.IDENTIFIER && STATUS_FUNCTIONS.includes(token.lexeme.toLowerCase()) && tokens[i + 1]?.type === TokenType.LEFT_PAREN,
  );
  return truthy(evaluateData(usesStatus ? expression : `success() && (${expression})`, context, { status: context.__status ?? null }));
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
export function githubContext({
  eventName,
  payload,
  repository,
  sha,
  ref,
  workspace,
  workflow = 'rehearsal',
  workflowFile = '.github/workflows/rehearsal.yml',
  actor = 'rehearsal',
  runId = '1',
}) {
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

/** Matrix values match for exclude/include as the expression `==` compares them. */
const matrixEquals = (a, b) => equals(toData(a), toData(b));

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
  combos = combos.filter((combo) => !exclude.some((ex) => Object.entries(ex).every(([k, v]) => matrixEquals(combo[k], v))));
  const originals = combos.map((combo) => ({ ...combo }));
  for (const entry of include) {
    const matching = originals
      .map((original, index) => (Object.entries(entry).every(([k, v]) => !(k in axes) || matrixEquals(original[k], v)) ? index : -1))
      .filter((index) => index !== -1);
    if (matching.length && Object.keys(entry).some((k) => k in axes)) for (const index of matching) Object.assign(combos[index], entry);
    else combos.push({ ...entry });
  }
  if (!combos.length) throw new RehearsalError('the matrix has no combinations (GitHub fails such a job)');
  return combos;
}

/** Runs a step's command: its output (stdout and stderr as they came) is collected and handed on line by line. */
async function runProcess(command, args, { cwd, env, onOutput, timeoutMs }) {
  // stdin is /dev/null, as on a runner
  const child = $({ cwd, env, nothrow: true, stdio: ['ignore', 'pipe', 'pipe'], ...(timeoutMs ? { timeout: timeoutMs } : {}) })`${command} ${args}`;
  const result = await streamLines(child, { echo: false, onLine: (line) => onOutput?.(`${line}\n`) });
  return { exitCode: result.exitCode ?? (result.signal ? 128 : 1), output: result.stdall };
}

/** A step's `continue-on-error`: a boolean or an expression (`${{ }}`) that evaluates to one. */
function continueOnError(step, context) {
  const value = step['continue-on-error'];
  if (value === undefined || typeof value === 'boolean') return value === true;
  const rendered = render(String(value), context);
  if (rendered === true || rendered === false) return rendered;
  if (rendered === 'true' || rendered === 'false') return rendered === 'true';
  throw new RehearsalError(`continue-on-error of step '${step.name ?? step.uses ?? step.run}' is not a boolean: ${value}`);
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
 * @param {{match: RegExp, reason: string, exitCode?: number, outputs?: Record<string,string>}[]} [options.skipRuns]  run
 *   scripts the rehearsal does not execute (counted as exiting with `exitCode`, default 0, and writing `outputs`)
 * @param {boolean|string[]} [options.dryRun]  evaluate conditions only (every job, or the listed job ids); every step
 *   that would run counts as successful
 * @param {Record<string,string>} [options.envOverrides]  values that replace the job's own env after it is rendered
 *   (e.g. cosign's key flags in place of the keyless ones); the job's rendered env stays in the result (`env`)
 * @param {object} [options.inputs]  the `inputs` context (a called workflow's)
 * @param {object} [options.vars]  the `vars` context
 * @param {string} [options.jobWorkflowRef]  the OIDC claim job_workflow_ref (default: github.workflow_ref)
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
  const {
    workflow,
    jobId,
    job,
    runnerTemp,
    github,
    eventPath,
    baseEnv,
    secrets = {},
    needs = {},
    matrix = null,
    uses = {},
    skipRuns = [],
    log = () => {},
  } = options;
  const dryRun = Array.isArray(options.dryRun) ? options.dryRun.includes(jobId) : Boolean(options.dryRun);
  const jobWorkflowRef = options.jobWorkflowRef ?? github.workflow_ref;
  const commandDir = path.join(runnerTemp, '_runner_file_commands');
  mkdirSync(commandDir, { recursive: true });
  const secretsContext = { GITHUB_TOKEN: '', ...secrets };
  const base = { github, secrets: secretsContext, inputs: options.inputs ?? {}, vars: options.vars ?? {} };
  const workflowEnv = { ...renderMap(workflow.env, { ...base, env: {} }), ...(options.workflowEnv ?? {}) };
  const strategy = { 'fail-fast': job.strategy?.['fail-fast'] ?? true, 'job-index': 0, 'job-total': 1 };
  const jobContext = { ...base, needs, matrix: matrix ?? {}, strategy, env: workflowEnv };
  const renderedJobEnv = renderMap(job.env, jobContext);
  const jobEnv = { ...workflowEnv, ...renderedJobEnv, ...(options.envOverrides ?? {}) };
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
    const stepEnvContext = {
      ...jobContext,
      env: { ...jobEnv, ...addedEnv },
      steps,
      runner,
      job: { status: status.failed ? 'failure' : 'success' },
      __status: status,
    };
    const runIt = evaluateIf(step.if, stepEnvContext);
    if (!runIt) {
      steps[id] = { outputs: {}, outcome: 'skipped', conclusion: 'skipped' };
      results.push({ id, name, kind: step.uses ? 'uses' : 'run', ran: false, outcome: 'skipped', conclusion: 'skipped', output: '' });
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
      if (skip) {
        note = `not executed in the rehearsal: ${skip.reason}`;
        exitCode = skip.exitCode ?? 0;
        for (const [key, value] of Object.entries(skip.outputs ?? {})) appendFileSync(files.output, `${key}=${value}\n`);
      } else if (!dryRun) {
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
        // A substitute may add variables of its own (e.g. which scanner binary to use) to the step's environment.
        const exec = (command, args, { env: extraEnv = {} } = {}) =>
          runProcess(command, args, { cwd, env: { ...processEnv, ...extraEnv }, onOutput: log, timeoutMs });
        const result = (await substitute({ with: inputs, env: processEnv, files, cwd, matrix, github, exec, log, jobWorkflowRef })) ?? {};
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
    const conclusion = outcome === 'failure' && continueOnError(step, stepEnvContext) ? 'success' : outcome;
    if (conclusion === 'failure') status.failed = true;
    steps[id] = { outputs, outcome, conclusion };
    results.push({
      id,
      name,
      kind,
      uses: step.uses,
      ran: true,
      outcome,
      conclusion,
      exitCode,
      output,
      outputs,
      note,
      env: stepEnv,
      annotations: parseAnnotations(output),
    });
  }

  const outputsContext = { ...jobContext, env: { ...jobEnv, ...addedEnv }, steps, runner };
  const jobOutputs = status.failed ? {} : renderMap(job.outputs, outputsContext);
  return {
    jobId,
    matrix,
    result: status.failed ? 'failure' : 'success',
    steps: results,
    outputs: jobOutputs,
    summary,
    env: addedEnv,
    jobEnv: { ...workflowEnv, ...renderedJobEnv },
    jobWorkflowRef,
  };
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
  // `preset`: results of jobs this rehearsal does not run ({ jobId: { result, outputs } }), for the jobs that need them
  const done = Object.fromEntries(Object.entries(options.preset ?? {}).map(([id, job]) => [id, { runs: [], outputs: {}, ...job }]));
  for (const jobId of jobs) {
    const job = workflow.jobs[jobId];
    if (!job) throw new RehearsalError(`no job '${jobId}' in the workflow`);
    const needIds = [job.needs ?? []].flat();
    for (const need of needIds) if (!done[need]) throw new RehearsalError(`job '${jobId}' needs '${need}', which was not run before it`);
    const needs = Object.fromEntries(needIds.map((need) => [need, { result: done[need].result, outputs: done[need].outputs }]));
    // success() of a job means every job it needs succeeded (a skipped need makes it false as well).
    const status = {
      failed: needIds.some((need) => done[need].result === 'failure'),
      cancelled: false,
      skipped: needIds.some((need) => done[need].result === 'skipped'),
    };
    const context = { github, needs, secrets: {}, vars: options.vars ?? {}, inputs: options.inputs ?? {}, __status: status };
    if (!evaluateIf(job.if, context)) {
      done[jobId] = { result: 'skipped', outputs: {}, runs: [] };
      continue;
    }
    if (job.uses) {
      done[jobId] = await runCalledWorkflow({ ...options, callerJobId: jobId, caller: job, context });
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

/** Job ids of a workflow in an order where every job comes after the jobs it needs. */
export function jobOrder(workflow) {
  const order = [];
  const visit = (id, path = []) => {
    if (order.includes(id)) return;
    if (path.includes(id)) throw new RehearsalError(`jobs need each other in a cycle: ${[...path, id].join(' -> ')}`);
    for (const need of [workflow.jobs[id]?.needs ?? []].flat()) visit(need, [...path, id]);
    order.push(id);
  };
  for (const id of Object.keys(workflow.jobs)) visit(id);
  return order;
}

/**
 * A caller job's `uses: ./<file>`: the called workflow's jobs, as GitHub runs a workflow_call (see the header).
 * `options.called` may name, per caller job id, the callee's jobs to run ({ jobs: [...] }); default: all, in order.
 */
async function runCalledWorkflow(options) {
  const { caller, callerJobId, github, context } = options;
  const local = /^\.\/(\.github\/workflows\/[\w.-]+\.ya?ml)$/.exec(caller.uses ?? '');
  if (!local) throw new RehearsalError(`job '${callerJobId}': only local reusable workflows (./.github/workflows/...) are rehearsable: ${caller.uses}`);
  const file = local[1];
  const called = loadWorkflow(path.join(github.workspace, file));
  const declared = called.on?.workflow_call;
  if (declared === undefined) throw new RehearsalError(`${file} does not declare on.workflow_call`);
  const callerSecrets = { ...(options.secrets ?? {}) };

  const given = {};
  for (const [name, value] of Object.entries(caller.with ?? {})) {
    if (!declared?.inputs?.[name]) throw new RehearsalError(`job '${callerJobId}': ${file} has no input '${name}'`);
    given[name] = render(typeof value === 'string' ? value : toExpressionString(value), context);
  }
  const inputs = {};
  for (const [name, spec] of Object.entries(declared?.inputs ?? {})) {
    if (name in given) inputs[name] = given[name];
    else if (spec.required) throw new RehearsalError(`job '${callerJobId}': the required input '${name}' of ${file} is not given`);
    else inputs[name] = spec.default ?? (spec.type === 'boolean' ? false : spec.type === 'number' ? 0 : '');
  }

  let secrets;
  if (caller.secrets === 'inherit') secrets = callerSecrets;
  else {
    secrets = {};
    for (const [name, value] of Object.entries(caller.secrets ?? {})) {
      if (!declared?.secrets?.[name]) throw new RehearsalError(`job '${callerJobId}': ${file} declares no secret '${name}'`);
      secrets[name] = toExpressionString(render(String(value), { ...context, secrets: { GITHUB_TOKEN: '', ...callerSecrets } }));
    }
  }
  for (const [name, spec] of Object.entries(declared?.secrets ?? {}))
    if (spec?.required && !secrets[name]) throw new RehearsalError(`job '${callerJobId}': the required secret '${name}' of ${file} is not passed`);

  const jobWorkflowRef = `${github.repository}/${file}@${github.ref}`;
  const jobs = options.called?.[callerJobId]?.jobs ?? jobOrder(called);
  const done = await runJobsIn({ ...options, workflow: called, jobs, inputs, secrets, jobWorkflowRef, called: undefined, preset: undefined });
  const results = Object.values(done).map((job) => job.result);
  return {
    result: results.includes('failure') ? 'failure' : 'success',
    outputs: {},
    runs: [],
    called: { file, inputs, secrets: Object.keys(secrets), jobWorkflowRef, jobs: done },
  };
}
