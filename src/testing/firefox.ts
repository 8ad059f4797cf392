import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser } from 'puppeteer-core';

/** Debian's Firefox ESR; puppeteer cannot download browsers on these machines. */
export function firefoxPath(): string | undefined {
  for (const candidate of [process.env.FIREFOX_PATH, '/usr/bin/firefox-esr', '/usr/bin/firefox']) {
    if (candidate && existsSync(candidate)) return candidate;
  }
  return undefined;
}

/**
 * Launches headless Firefox driven over WebDriver BiDi (Firefox's own automation protocol, so
 * pages render in real Gecko) with a fresh profile; close() ends the browser and removes the
 * profile. Unlike headless Chromium, headless Firefox hides a tab that is not in front, so
 * `document.hidden` and `visibilitychange` behave as for a person switching tabs.
 */
export async function launchFirefox(): Promise<{ browser: Browser; close: () => Promise<void> }> {
  const executablePath = firefoxPath();
  if (!executablePath) throw new Error('Firefox not found: apt-get install firefox-esr (or set FIREFOX_PATH)');
  const profile = mkdtempSync(join(tmpdir(), 'camcast-firefox-'));
  let browser: Browser;
  try {
    browser = await puppeteer.launch({
      browser: 'firefox',
      protocol: 'webDriverBiDi',
      executablePath,
      headless: true,
      userDataDir: profile,
      // The machine's network is closed: keep Firefox from phoning home.
      extraPrefsFirefox: {
        'app.update.enabled': false,
        'browser.safebrowsing.malware.enabled': false,
        'browser.safebrowsing.phishing.enabled': false,
        'datareporting.policy.dataSubmissionEnabled': false,
        'network.captive-portal-service.enabled': false,
        'network.connectivity-service.enabled': false,
      },
    });
  } catch (error) {
    rmSync(profile, { recursive: true, force: true });
    throw error;
  }
  return {
    browser,
    close: async () => {
      const child = browser.process();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([browser.close().catch(() => {}), new Promise((resolve) => (timer = setTimeout(resolve, 10_000)))]);
      clearTimeout(timer);
      if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
