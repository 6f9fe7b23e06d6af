// The dashboard: sign in, zones and their SSL mode, create (key made here), download, install, revoke.
import './polyfills.js';
import { ApiError, createApi, type Api, type Certificate, type SslMode, type Zone } from './api.js';
import { certificateDownload, fileBase, keyDownload, saveDownload, type CertFormat } from './files.js';
import { installGuide, SERVERS, type ServerId, type Step } from './instructions.js';
import { checkPastedCsr, makeKeyAndCsr, type KeyType } from './keys.js';
import { MODES, modeLabel, weakensVerification } from './modes.js';
import { clearKey, storedKey, storeKey } from './session.js';
import { $, el, messageOf } from './dom.js';

const MAX_HOSTNAMES = 100;
const PER_PAGE = 20;

interface Issued {
  readonly certificate: Certificate;
  readonly zone: Zone;
}

let api: Api | undefined;
let zones: Zone[] = [];
const modes = new Map<string, SslMode>();
let certPage = 1;
let issued: Issued | undefined;

// ---- sign in / out

async function signIn(apiKey: string): Promise<void> {
  const candidate = createApi(apiKey);
  await candidate.verify();
  api = candidate;
  storeKey(apiKey);
  $('signin').hidden = true;
  $('signed-in').hidden = false;
  $('sign-out').hidden = false;
  await Promise.all([loadZones(), loadCertificates(1)]);
}

function signOut(): void {
  clearKey();
  api = undefined;
  issued = undefined;
  zones = [];
  modes.clear();
  for (const id of ['zone-rows', 'cert-rows', 'install-steps']) $(id).replaceChildren();
  ($('certificate-text') as HTMLTextAreaElement).value = '';
  ($('key-text') as HTMLTextAreaElement).value = '';
  $('result').hidden = true;
  $('signed-in').hidden = true;
  $('sign-out').hidden = true;
  $('signin').hidden = false;
  ($('api-key') as HTMLInputElement).value = '';
  $('api-key').focus();
}

// ---- zones

async function loadZones(): Promise<void> {
  zones = await api!.zones();
  await Promise.all(zones.map(async (zone) => modes.set(zone.id, await api!.sslMode(zone.id))));
  renderZones();
  renderZoneChoice();
}

function renderZones(): void {
  $('zone-rows').replaceChildren(
    ...zones.map((zone) => {
      const select = el('select', { id: `mode-${zone.name}` });
      select.setAttribute('aria-label', `SSL mode for ${zone.name}`);
      select.dataset.zone = zone.id;
      for (const mode of MODES) select.append(el('option', { value: mode.value, textContent: mode.label }));
      select.value = modes.get(zone.id) ?? 'full';
      select.addEventListener('change', () => void changeMode(zone, select));
      return el('tr', {}, el('td', { textContent: zone.name }), el('td', {}, select));
    }),
  );
}

async function changeMode(zone: Zone, select: HTMLSelectElement): Promise<void> {
  const from = modes.get(zone.id) ?? 'full';
  const to = select.value as SslMode;
  const status = $('zones-status');
  if (weakensVerification(from, to) && !window.confirm(`Leave strict for ${zone.name}?\n\nIn "${modeLabel(to)}" the edge no longer checks the origin's certificate: anyone who can reach the path to your origin could impersonate it.`)) {
    select.value = from;
    return;
  }
  select.disabled = true;
  try {
    modes.set(zone.id, await api!.setSslMode(zone.id, to));
    status.textContent = `${zone.name} is now ${modeLabel(to)}.`;
  } catch (error) {
    select.value = from;
    status.textContent = `Could not change ${zone.name}: ${messageOf(error)}`;
  } finally {
    select.disabled = false;
  }
}

function renderZoneChoice(): void {
  const select = $<HTMLSelectElement>('create-zone');
  select.replaceChildren(...zones.map((zone) => el('option', { value: zone.id, textContent: zone.name })));
  resetHostnames();
}

// ---- hostnames

function hostnameInputs(): HTMLInputElement[] {
  return [...$('hostnames').querySelectorAll('input')];
}

function addHostname(value: string, focus = false): void {
  const list = $('hostnames');
  if (list.children.length >= MAX_HOSTNAMES) return;
  const index = list.children.length + 1;
  const input = el('input', { value, spellcheck: false });
  input.setAttribute('aria-label', `Hostname ${index}`);
  const remove = el('button', { type: 'button', className: 'secondary', textContent: 'Remove' });
  remove.setAttribute('aria-label', `Remove hostname ${index}`);
  const item = el('li', {}, input, remove);
  remove.addEventListener('click', () => {
    item.remove();
    relabelHostnames();
  });
  list.append(item);
  relabelHostnames();
  if (focus) input.focus();
}

function relabelHostnames(): void {
  const items = [...$('hostnames').children];
  items.forEach((item, i) => {
    item.querySelector('input')!.setAttribute('aria-label', `Hostname ${i + 1}`);
    item.querySelector('button')!.setAttribute('aria-label', `Remove hostname ${i + 1}`);
  });
  $<HTMLButtonElement>('add-hostname').disabled = items.length >= MAX_HOSTNAMES;
  $('hostname-limit').textContent = `${items.length} of at most ${MAX_HOSTNAMES} hostnames, each in one of your zones; a wildcard (*.example.com) covers one level.`;
}

function resetHostnames(): void {
  $('hostnames').replaceChildren();
  const zone = zones.find((z) => z.id === $<HTMLSelectElement>('create-zone').value);
  if (zone) {
    addHostname(zone.name);
    addHostname(`*.${zone.name}`);
  }
  relabelHostnames();
}

function chosenHostnames(): string[] {
  return hostnameInputs()
    .map((input) => input.value.trim().toLowerCase())
    .filter((value) => value !== '');
}

// ---- create

function keySource(): 'browser' | 'csr' {
  return (document.querySelector<HTMLInputElement>('input[name=key-source]:checked')?.value ?? 'browser') as 'browser' | 'csr';
}

function showCreateErrors(error: unknown): void {
  if (error instanceof ApiError) {
    // Policy codes go next to the field they are about (see docs/errors.md).
    const byField: Record<string, string[]> = { hostnames: [], csr: [], form: [] };
    for (const item of error.errors) {
      const field = item.code >= 1200 && item.code < 1300 ? 'hostnames' : item.code >= 1300 && item.code < 1400 ? 'csr' : 'form';
      byField[field]!.push(`${item.message} (code ${item.code})`);
    }
    $('hostnames-error').textContent = byField.hostnames!.join('\n');
    $('csr-error').textContent = byField.csr!.join('\n');
    $('create-error').textContent = byField.form!.join('\n') || (error.errors.length === 0 ? error.message : '');
    if (error.status === 401) $('create-error').textContent = 'Your API key is no longer valid: sign out and sign in again.';
  } else {
    $('create-error').textContent = messageOf(error);
  }
}

async function createCertificate(event: SubmitEvent): Promise<void> {
  event.preventDefault();
  for (const id of ['hostnames-error', 'csr-error', 'create-error', 'create-status']) $(id).textContent = '';
  const hostnames = chosenHostnames();
  if (hostnames.length === 0) {
    $('hostnames-error').textContent = 'Add at least one hostname.';
    return;
  }
  const zone = zones.find((z) => z.id === $<HTMLSelectElement>('create-zone').value);
  const submit = $<HTMLButtonElement>('create-submit');
  submit.disabled = true;
  try {
    let csr: string;
    let requestType: string;
    let keyPem: string | undefined;
    if (keySource() === 'csr') {
      try {
        const pasted = await checkPastedCsr($<HTMLTextAreaElement>('csr').value);
        csr = pasted.pem;
        requestType = pasted.requestType;
      } catch (error) {
        $('csr-error').textContent = messageOf(error);
        return;
      }
    } else {
      const keyType = $<HTMLSelectElement>('key-type').value as KeyType;
      $('create-status').textContent = 'Generating the private key in this browser…';
      const made = await makeKeyAndCsr(keyType, hostnames);
      csr = made.csrPem;
      keyPem = made.keyPem;
      requestType = keyType === 'ecdsa' ? 'origin-ecc' : 'origin-rsa';
    }
    $('create-status').textContent = 'Asking the Origin CA to sign it…';
    const certificate = await api!.createCertificate({ csr, hostnames, request_type: requestType, requested_validity: Number($<HTMLSelectElement>('validity').value) });
    issued = { certificate, zone: zone ?? { id: '', name: fileBase(hostnames) } };
    showResult(keyPem);
    $('create-status').textContent = `Certificate ${certificate.id} issued.`;
    await loadCertificates(1);
  } catch (error) {
    $('create-status').textContent = '';
    showCreateErrors(error);
  } finally {
    submit.disabled = false;
  }
}

// ---- result and downloads

function chosenFormat(): CertFormat {
  return (document.querySelector<HTMLInputElement>('input[name=format]:checked')?.value ?? 'pem') as CertFormat;
}

function showResult(keyPem: string | undefined): void {
  $('result').hidden = false;
  renderCertificateText();
  $('key-block').hidden = keyPem === undefined;
  $<HTMLTextAreaElement>('key-text').value = keyPem ?? '';
  renderInstall();
  $('result-title').scrollIntoView();
  $('result-title').setAttribute('tabindex', '-1');
  $('result-title').focus();
}

function renderCertificateText(): void {
  if (!issued) return;
  const download = certificateDownload(issued.certificate.certificate, chosenFormat(), fileBase(issued.certificate.hostnames));
  const area = $<HTMLTextAreaElement>('certificate-text');
  area.value = typeof download.bytes === 'string' ? download.bytes : `(binary DER, ${download.bytes.length} bytes: use the download button)`;
  $('download-certificate').textContent = `Download ${download.filename}`;
}

function downloadCertificate(): void {
  if (!issued) return;
  saveDownload(certificateDownload(issued.certificate.certificate, chosenFormat(), fileBase(issued.certificate.hostnames)));
}

function downloadKey(): void {
  const keyPem = $<HTMLTextAreaElement>('key-text').value;
  if (!issued || keyPem === '') return;
  saveDownload(keyDownload(keyPem, fileBase(issued.certificate.hostnames)));
}

// ---- install instructions

function renderInstall(): void {
  if (!issued) return;
  const port = Number($<HTMLInputElement>('install-port').value);
  const guide = installGuide($<HTMLSelectElement>('install-server').value as ServerId, {
    hostnames: issued.certificate.hostnames,
    base: fileBase(issued.certificate.hostnames),
    dir: $<HTMLInputElement>('install-dir').value.trim() || '/etc/ssl/strictedge',
    port: Number.isInteger(port) && port > 0 && port < 65536 ? port : 443,
    upstream: $<HTMLInputElement>('install-upstream').value.trim() || '127.0.0.1:3000',
    zone: issued.zone.name,
  });
  $('install-steps').replaceChildren(el('h4', { textContent: guide.name }), renderSteps(guide.steps));
}

/** One numbered item per instruction, holding the commands or the file that carry it out. */
function renderSteps(steps: readonly Step[]): HTMLOListElement {
  const items: HTMLLIElement[] = [];
  for (const step of steps) {
    const last = items[items.length - 1];
    if (step.kind === 'text' || !last) items.push(el('li', {}, ...stepContent(step)));
    else last.append(...stepContent(step));
  }
  return el('ol', {}, ...items);
}

function stepContent(step: Step): HTMLElement[] {
  switch (step.kind) {
    case 'text':
      return [el('p', { textContent: step.text })];
    case 'shell':
      return [el('pre', { className: 'shell' }, el('code', { textContent: step.code }))];
    case 'file': {
      const pre = el('pre', { className: 'config' }, el('code', { textContent: step.code }));
      pre.dataset.file = step.id;
      return [el('p', { className: 'file-path', textContent: step.path }), pre];
    }
  }
}

// ---- certificate list and revocation

async function loadCertificates(page: number): Promise<void> {
  const result = await api!.certificates(page, PER_PAGE);
  certPage = result.page;
  $('cert-rows').replaceChildren(...result.items.map(certificateRow));
  const pages = Math.max(1, result.totalPages);
  $('certs-page').textContent = `Page ${certPage} of ${pages} (${result.totalCount} certificates)`;
  $<HTMLButtonElement>('certs-prev').disabled = certPage <= 1;
  $<HTMLButtonElement>('certs-next').disabled = certPage >= pages;
}

function certificateRow(certificate: Certificate): HTMLTableRowElement {
  const revoked = certificate.revoked_at !== null;
  const actions = el('td');
  if (!revoked) {
    const button = el('button', { type: 'button', className: 'danger', textContent: 'Revoke' });
    button.setAttribute('aria-label', `Revoke certificate ${certificate.id} for ${certificate.hostnames.join(', ')}`);
    button.addEventListener('click', () => void revoke(certificate, button));
    actions.append(button);
  }
  const row = el(
    'tr',
    {},
    el('td', { textContent: certificate.hostnames.join(', ') }),
    el('td', { textContent: certificate.request_type === 'origin-ecc' ? 'ECDSA' : 'RSA' }),
    el('td', { textContent: certificate.expires_on.slice(0, 10) }),
    el('td', { textContent: revoked ? `Revoked ${certificate.revoked_at!.slice(0, 10)}` : 'Active', className: revoked ? 'status-revoked' : '' }),
    actions,
  );
  row.dataset.serial = certificate.id;
  return row;
}

async function revoke(certificate: Certificate, button: HTMLButtonElement): Promise<void> {
  const ok = window.confirm(
    `Revoke the certificate for ${certificate.hostnames.join(', ')}?\n\nRevocation cannot be undone. Edges in strict mode refuse this certificate within seconds: origins still using it will answer visitors with 526 until they get a new one.`,
  );
  if (!ok) return;
  button.disabled = true;
  try {
    await api!.revokeCertificate(certificate.id);
    $('certs-status').textContent = `Certificate ${certificate.id} revoked.`;
    await loadCertificates(certPage);
  } catch (error) {
    button.disabled = false;
    $('certs-status').textContent = `Could not revoke: ${messageOf(error)}`;
  }
}

// ---- wiring

function renderModeHelp(): void {
  $('mode-help').replaceChildren(...MODES.flatMap((mode) => [el('dt', { textContent: mode.label }), el('dd', { textContent: mode.explanation })]));
}

function wire(): void {
  renderModeHelp();
  $<HTMLSelectElement>('install-server').replaceChildren(...SERVERS.map(([id, name]) => el('option', { value: id, textContent: name })));
  $('signin-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const input = $<HTMLInputElement>('api-key');
    $('signin-error').textContent = '';
    signIn(input.value.trim()).catch((error: unknown) => {
      api = undefined;
      clearKey();
      $('signin-error').textContent = error instanceof ApiError && error.status === 401 ? 'That API key is not valid.' : `Could not sign in: ${messageOf(error)}`;
    });
  });
  $('sign-out').addEventListener('click', signOut);
  $('create-zone').addEventListener('change', resetHostnames);
  $('add-hostname').addEventListener('click', () => addHostname('', true));
  for (const radio of document.querySelectorAll<HTMLInputElement>('input[name=key-source]')) {
    radio.addEventListener('change', () => {
      const own = keySource() === 'csr';
      $('own-csr').hidden = !own;
      $('browser-key').hidden = own;
    });
  }
  $('create-form').addEventListener('submit', (event) => void createCertificate(event as SubmitEvent));
  for (const radio of document.querySelectorAll<HTMLInputElement>('input[name=format]')) radio.addEventListener('change', renderCertificateText);
  $('download-certificate').addEventListener('click', downloadCertificate);
  $('download-key').addEventListener('click', downloadKey);
  for (const id of ['install-server', 'install-dir', 'install-port', 'install-upstream']) $(id).addEventListener('input', renderInstall);
  $('install-server').addEventListener('change', renderInstall);
  $('certs-prev').addEventListener('click', () => void loadCertificates(certPage - 1));
  $('certs-next').addEventListener('click', () => void loadCertificates(certPage + 1));
  const key = storedKey();
  if (key) signIn(key).catch(() => signOut());
}

wire();
