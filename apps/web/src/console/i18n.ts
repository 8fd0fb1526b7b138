import i18n from 'i18next';
import { initReactI18next } from 'react-i18next';
import { common } from './shared/i18n.common.ts';
import { mapI18n } from './pages/map/i18n.ts';
import { workbenchI18n } from './pages/workbench/i18n.ts';
import { cockpitI18n } from './pages/cockpit/i18n.ts';
import { adminI18n } from './pages/admin/i18n.ts';
import { registryI18n } from './pages/registry/i18n.ts';
import { hotlineI18n } from './pages/hotline/i18n.ts';
import { fieldworkI18n } from './pages/fieldwork/i18n.ts';
import { noticesI18n } from './pages/notices/i18n.ts';

/**
 * zh-CN first (standing rule 5); English on the switch in the header. Each area of the console keeps its strings in
 * its own namespace (`common`, `map`, `workbench`, `cockpit`, `admin`, `registry`, `hotline`, `fieldwork`, `notices`).
 */
export const languages = ['zh-CN', 'en'] as const;
const stored = typeof localStorage !== 'undefined' ? localStorage.getItem('wangge.lang') : null;

void i18n.use(initReactI18next).init({
  lng: stored === 'en' ? 'en' : 'zh-CN',
  fallbackLng: 'zh-CN',
  defaultNS: 'common',
  interpolation: { escapeValue: false },
  resources: {
    'zh-CN': {
      common: common.zh,
      map: mapI18n.zh,
      workbench: workbenchI18n.zh,
      cockpit: cockpitI18n.zh,
      admin: adminI18n.zh,
      registry: registryI18n.zh,
      hotline: hotlineI18n.zh,
      fieldwork: fieldworkI18n.zh,
      notices: noticesI18n.zh,
    },
    en: {
      common: common.en,
      map: mapI18n.en,
      workbench: workbenchI18n.en,
      cockpit: cockpitI18n.en,
      admin: adminI18n.en,
      registry: registryI18n.en,
      hotline: hotlineI18n.en,
      fieldwork: fieldworkI18n.en,
      notices: noticesI18n.en,
    },
  },
});

export function setLanguage(lng: 'zh-CN' | 'en'): void {
  localStorage.setItem('wangge.lang', lng === 'en' ? 'en' : 'zh-CN');
  void i18n.changeLanguage(lng);
  document.documentElement.lang = lng;
}

export default i18n;
