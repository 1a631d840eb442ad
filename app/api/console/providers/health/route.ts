export { providerHealth as GET } from "@/lib/console/providers";
