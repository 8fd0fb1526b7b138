/** Strings of the workbench area (namespace `workbench`): zh-CN first, English beside. */
export const workbenchI18n = {
  zh: {},
  en: {},
};
