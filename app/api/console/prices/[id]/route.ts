export { setPrice as PUT, deletePrice as DELETE } from "@/lib/control-plane/console/usage";
