export {
  ManageProcessTemplate,
  type ManageProcessTemplateOptions,
} from './template/ManageProcessTemplate.js';
export type { ManagedGroups } from './template/ProcessTarget.js';
export { createDroverRouter, DroverTemplate } from './drover/router.js';
export { CLI_VERSION } from './version.js';
