export { listProviders as GET, createProvider as POST } from "@/lib/console/providers";
