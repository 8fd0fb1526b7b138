import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import './field.css';
import { startBackground } from './background.ts';

createRoot(document.getElementById('root')!).render(<App />);
startBackground();

if ('serviceWorker' in navigator && import.meta.env.PROD) {
  window.addEventListener('load', () => {
    void navigator.serviceWorker.register('/field/sw.js', { scope: '/field/' });
  });
}
