#!/usr/bin/env node
// The `drover` command. The program itself is the bundle that `pnpm build` makes (one file loads
// faster than a module graph); this file exists before any build, so package managers can link it.
import '../bundle/drover.mjs';
