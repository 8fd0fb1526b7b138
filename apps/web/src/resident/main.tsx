import { createRoot } from 'react-dom/client';
import { configureApi } from './api.ts';
import { App } from './App.tsx';
import { language } from './i18n.ts';
import './resident.css';

configureApi({ language });
document.documentElement.lang = language();
createRoot(document.getElementById('root')!).render(<App />);
