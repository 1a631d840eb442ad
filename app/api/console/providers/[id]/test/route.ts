export { testProvider as POST } from "@/lib/control-plane/console/providers";
