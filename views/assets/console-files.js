/* global window, document -- a browser script (eslint runs with Node globals) */
// Fills a console text area from a local file the person chooses (the Cedar policy editor,
// page-model.ts `upload`). Progressive enhancement: the chooser is hidden until this script
// shows it, and the text area works alone without it. Served by the console itself under a CSP
// of script-src 'self'. The file is read in the browser and never sent as a file: the text
// area's text is what the form posts, and the server checks it as if it had been typed.
(function () {
  'use strict';
  Array.prototype.forEach.call(document.querySelectorAll('[data-upload]'), function (box) {
    var input = box.querySelector('input[type="file"][data-fills]');
    var status = box.querySelector('[data-upload-status]');
    var area = input && document.getElementById(input.getAttribute('data-fills'));
    if (!area || typeof input.files === 'undefined' || !window.FileReader) return;
    box.hidden = false;
    input.addEventListener('change', function () {
      var file = input.files && input.files[0];
      if (!file) return;
      var max = Number(input.getAttribute('data-max')) || Infinity;
      if (file.size > max) {
        status.textContent = file.name + ' is larger than ' + max + ' bytes: not read.';
        return;
      }
      var reader = new window.FileReader();
      reader.onload = function () {
        area.value = String(reader.result);
        var name = document.getElementById(input.getAttribute('data-names') || '');
        if (name && !name.value.trim()) name.value = file.name;
        status.textContent = 'Filled from ' + file.name + '. Nothing is stored until you press Store.';
      };
      reader.onerror = function () {
        status.textContent = file.name + ' could not be read.';
      };
      reader.readAsText(file, 'utf-8');
    });
  });
})();
