// Every section of the configuration file, in the order they plan and apply. A new section (model
// prices, say) is one module implementing ConfigSection, added here and to the file's schema.
import { alertRulesSection } from "./alert-rules";
import { providersSection } from "./providers";
import { scalingSection } from "./scaling";
import type { ConfigSection } from "./types";

export const SECTIONS: readonly ConfigSection[] = [providersSection, scalingSection, alertRulesSection];
