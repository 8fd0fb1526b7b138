/** Strings of the map area (namespace `map`): zh-CN first, English beside. */
export const mapI18n = {
  zh: {},
  en: {},
};
