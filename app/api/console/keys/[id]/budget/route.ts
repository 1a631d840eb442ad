export { setKeyBudget as PUT } from "@/lib/control-plane/console/usage";
