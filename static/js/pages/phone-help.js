// The help screen on the phone's page, loaded on its own beside the page script: it keeps
// working even if anything else on the page fails. See lib/help.js.
import { initHelp } from "../lib/help.js";

initHelp();
