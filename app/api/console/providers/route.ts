export { listProviders as GET, createProvider as POST } from "@/lib/control-plane/console/providers";
