export { setKeyCapture as PUT } from "@/lib/control-plane/console/keys";
