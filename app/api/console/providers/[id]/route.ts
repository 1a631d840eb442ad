export { updateProvider as PATCH, deleteProvider as DELETE } from "@/lib/console/providers";
