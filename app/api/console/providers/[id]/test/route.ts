export { testProvider as POST } from "@/lib/console/providers";
