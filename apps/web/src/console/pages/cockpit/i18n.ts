/** Strings of the cockpit area (namespace `cockpit`): zh-CN first, English beside. */
export const cockpitI18n = {
  zh: {},
  en: {},
};
