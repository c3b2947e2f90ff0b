#!/usr/bin/env node
// Solidity standard-JSON compilation through the pinned solc-js, file to file.
//
//   node compile.js INPUT.json OUTPUT.json
//
// Reads a standard-JSON input from INPUT.json and writes solc's standard-JSON output to
// OUTPUT.json. Files rather than pipes: large outputs through a pipe can be cut short
// (non-blocking stdout, EAGAIN). Anything solc-js prints on stdout (e.g. a note about SMT
// solvers) therefore never mixes with the JSON. Imports are resolved only among the given
// sources; anything else is reported as a compiler error.
'use strict';

const fs = require('fs');
const path = require('path');
const solc = require(path.join(__dirname, 'node_modules', 'solc'));

function main(argv) {
  if (argv.length !== 2) {
    process.stderr.write('usage: node compile.js INPUT.json OUTPUT.json\n');
    return 2;
  }
  const [inputPath, outputPath] = argv;
  const input = fs.readFileSync(inputPath, 'utf8');
  const noImports = (name) => ({
    error: `import "${name}" is not among the sources given to the compiler`,
  });
  const output = solc.compile(input, { import: noImports });
  const tmp = `${outputPath}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, output);
  fs.renameSync(tmp, outputPath);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
