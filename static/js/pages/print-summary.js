// The take-home summary's print button: shown only where the page can print.
const button = document.getElementById("print-summary");
if (button && typeof window.print === "function") {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
}
