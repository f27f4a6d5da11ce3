/* global window, document, URLSearchParams, fetch -- a browser script (eslint runs with Node globals) */
// Passkey ceremonies for govauth's pages (progressive enhancement: every page works without
// JavaScript; the passkey forms are hidden until this script shows them). Served from the
// server itself beside @simplewebauthn/browser's bundle (window.SimpleWebAuthnBrowser), under
// a CSP of script-src 'self'. The server decides everything: this script fetches the ceremony's
// options (with the page's form token), runs the browser's WebAuthn call, and posts the answer
// as an ordinary form submission.
(function () {
  'use strict';
  var lib = window.SimpleWebAuthnBrowser;
  var forms = document.querySelectorAll('form[data-passkey]');
  if (!lib || !lib.browserSupportsWebAuthn()) return;

  function say(form, text) {
    var status = form.querySelector('[data-passkey-status]');
    if (status) status.textContent = text;
  }

  Array.prototype.forEach.call(forms, function (form) {
    form.hidden = false;
    var button = form.querySelector('button[type="submit"]');
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      if (form.dataset.busy === '1') return;
      var name = form.querySelector('input[name="name"]');
      if (name && !name.value.trim()) {
        say(form, 'Give the passkey a name first.');
        name.focus();
        return;
      }
      form.dataset.busy = '1';
      if (button) button.disabled = true;
      say(form, 'Follow the instructions from your browser or device.');
      var body = new URLSearchParams();
      body.set('csrf', form.querySelector('input[name="csrf"]').value);
      fetch(form.dataset.options, { method: 'POST', body: body, credentials: 'same-origin', headers: { Accept: 'application/json' } })
        .then(function (res) {
          return res.json().then(function (json) {
            if (!res.ok) throw new Error(json.error_description || 'The passkey could not be started.');
            return json;
          });
        })
        .then(function (options) {
          return form.dataset.passkey === 'register' ? lib.startRegistration({ optionsJSON: options }) : lib.startAuthentication({ optionsJSON: options });
        })
        .then(function (answer) {
          form.querySelector('input[name="response"]').value = JSON.stringify(answer);
          say(form, 'Checking…');
          form.submit();
        })
        .catch(function (err) {
          form.dataset.busy = '';
          if (button) button.disabled = false;
          var cancelled = err && (err.name === 'NotAllowedError' || err.name === 'AbortError');
          say(form, cancelled ? 'The passkey request was cancelled or timed out. You can try again.' : (err && err.message) || 'The passkey did not work. You can try again.');
        });
    });
  });
})();
