import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.js';
import { connectStore } from './state.js';
import './styles/base.css';
import './styles/themes.css';
import './styles/layout.css';

// In Electron the preload defines window.cabpay; in the browser preview the bridge does.
if (!window.cabpay) {
  const { installPreviewBridge } = await import('./bridge/preview-bridge.js');
  installPreviewBridge();
}

connectStore(window.cabpay);

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
