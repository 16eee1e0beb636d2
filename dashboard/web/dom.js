// Small DOM helpers shared by the views.

// setText writes text only when it changed: cheaper than a DOM read, and it
// keeps the browser from laying out again what did not change.
export function setText(el, text) {
  if (el.tfText !== text) {
    el.tfText = text;
    el.textContent = text;
  }
}

// h creates an element with a class and optional text.
export function h(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text !== undefined) el.textContent = text;
  return el;
}
