import { runMain } from '@drover/command';
import { createRouter } from './tool.js';

await runMain(createRouter());
