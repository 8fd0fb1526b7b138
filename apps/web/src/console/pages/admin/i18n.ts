/** Strings of the admin area (namespace `admin`): zh-CN first, English beside. */
export const adminI18n = {
  zh: {},
  en: {},
};
