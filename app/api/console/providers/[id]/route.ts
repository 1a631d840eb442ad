export { updateProvider as PATCH, deleteProvider as DELETE } from "@/lib/control-plane/console/providers";
