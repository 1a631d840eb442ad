export { providerHealth as GET } from "@/lib/control-plane/console/providers";
