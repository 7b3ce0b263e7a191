'use strict';
// Prints the workspace's full Nx project graph (projects, npm packages and every dependency edge) and each project's
// files as JSON on stdout: `nx graph --file` leaves the npm packages out. Run with the workspace as cwd.
const { createProjectFileMapUsingProjectGraph, createProjectGraphAsync } = require('@nx/devkit');

(async () => {
  const graph = await createProjectGraphAsync({ exitOnError: false });
  const fileMap = await createProjectFileMapUsingProjectGraph(graph);
  const files = Object.fromEntries(Object.entries(fileMap).map(([name, list]) => [name, list.map((f) => f.file)]));
  process.stdout.write(JSON.stringify({ nodes: graph.nodes, externalNodes: graph.externalNodes ?? {}, dependencies: graph.dependencies, files }));
})().catch((error) => {
  process.stderr.write(`${String(error?.message ?? error).split('\n')[0]}\n`);
  process.exitCode = 1;
});
