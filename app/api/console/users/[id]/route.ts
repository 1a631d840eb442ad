export { updateUserHandler as PATCH } from "@/lib/control-plane/console/users";
