export { updateProvider as PATCH } from "@/lib/console/providers";
