// A button marked data-print prints the page (the console's CSP allows no
// inline handlers).
document.querySelectorAll('[data-print]').forEach((b) => b.addEventListener('click', () => window.print()));
